"""The RFC 9162 Merkle tree: public known answers, corruption probes and properties.

Known answers come from ``tests/protocol/vectors/`` (sources in its README). Every
proof generator is checked two ways: over raw entries and over stored leaf hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import ValidationError
from hotline.protocol.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    consistency_proof_from_hashes,
    inclusion_proof,
    inclusion_proof_from_hashes,
    leaf_hash,
    node_hash,
    root,
    root_from_hashes,
    verify_consistency,
    verify_inclusion,
    verify_inclusion_hash,
)

VECTORS = Path(__file__).parent / "vectors"


@cache
def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def hs(hex_strings: Sequence[str]) -> list[bytes]:
    return [h(x) for x in hex_strings]


REF = vectors("rfc6962_reference.json")
REF_LEAVES = hs(REF["leaves"])
REF_ROOTS = [EMPTY_ROOT, *hs(REF["roots"])]  # indexed by tree size


def entries(n: int) -> list[bytes]:
    """n distinct entries: distinct leaves make every swapped-leaf probe meaningful."""
    return [b"entry %d" % i for i in range(n)]


def perfect(leaf_hashes: Sequence[bytes], level: int, index: int) -> bytes:
    """MTH of the perfect subtree of leaves [index * 2**level, (index + 1) * 2**level)."""
    return root_from_hashes(leaf_hashes[index << level : (index + 1) << level])


InclusionGen = Callable[[list[bytes], int, int], list[bytes]]
ConsistencyGen = Callable[[list[bytes], int, int], list[bytes]]

INCLUSION_GENERATORS: dict[str, InclusionGen] = {
    "entries": inclusion_proof,
    "leaf hashes": lambda d, i, n: inclusion_proof_from_hashes([leaf_hash(x) for x in d], i, n),
}
CONSISTENCY_GENERATORS: dict[str, ConsistencyGen] = {
    "entries": consistency_proof,
    "leaf hashes": lambda d, m, n: consistency_proof_from_hashes([leaf_hash(x) for x in d], m, n),
}


# --- §2.1.1 hashes and roots: known answers --------------------------------------------


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert h(REF["empty_root"]) == EMPTY_ROOT == root([]) == root_from_hashes([])
    assert Frontier.empty().root() == EMPTY_ROOT


@pytest.mark.parametrize(
    "case",
    REF["hasher"] + vectors("ct_python_merkle_test.json")["leaf_hashes"],
    ids=lambda c: c.get("desc", c.get("leaf", "")[:8] or "empty leaf"),
)
def test_leaf_hash_matches_reference(case: dict[str, str]) -> None:
    if "leaf" in case:
        assert h(case["want"]) == leaf_hash(h(case["leaf"]))
    else:
        assert h(case["want"]) == node_hash(h(case["left"]), h(case["right"]))


def test_node_hash_matches_ct_reference() -> None:
    for case in vectors("ct_python_merkle_test.json")["node_hashes"]:
        assert h(case["want"]) == node_hash(h(case["left"]), h(case["right"]))


@pytest.mark.parametrize("size", range(9))
def test_root_matches_reference_at_every_size(size: int) -> None:
    leaves = REF_LEAVES[:size]
    assert REF_ROOTS[size] == root(leaves)
    assert REF_ROOTS[size] == root_from_hashes([leaf_hash(x) for x in leaves])
    assert REF_ROOTS[size] == Frontier.from_leaf_hashes(leaf_hash(x) for x in leaves).root()


def test_every_node_hash_matches_reference() -> None:
    leaf_hashes = [leaf_hash(x) for x in REF_LEAVES]
    expected = [[h(x) for x in level] for level in REF["node_hashes"]]
    actual = [
        [perfect(leaf_hashes, lv, i) for i in range(len(row))] for lv, row in enumerate(expected)
    ]
    assert expected == actual


@pytest.mark.parametrize("size", range(9))
def test_frontier_holds_the_reference_compact_range(size: int) -> None:
    frontier = Frontier.from_leaf_hashes(leaf_hash(x) for x in REF_LEAVES[:size])
    expected = [h(REF["node_hashes"][lv][i]) for lv, i in REF["compact_trees"][size]]
    assert expected == frontier.to_list()


def test_subtree_hashes_match_the_mtc_draft_vector() -> None:
    """MTH(D[start:end]) of every subtree of a 130-leaf tree: the root of that slice."""
    mtc = vectors("mtc_subtree_hashes.json")
    leaf_hashes = [leaf_hash(bytes([i])) for i in range(mtc["max_size"])]
    running = hashlib.sha256()
    for end in range(1, mtc["max_size"] + 1):
        for start in range(end):
            if start == 0 or start % (1 << (end - start - 1).bit_length()) == 0:
                digest = root_from_hashes(leaf_hashes[start:end]).hex()
                running.update(f"[{start}, {end}) {digest}\n".encode())
    assert mtc["want"] == running.hexdigest()


# --- §2.1.3 inclusion: known answers ----------------------------------------------------


@pytest.mark.parametrize("generator", INCLUSION_GENERATORS)
@pytest.mark.parametrize("case", REF["inclusion"], ids=lambda c: f"{c['index']}of{c['size']}")
def test_inclusion_proof_matches_reference(case: dict[str, Any], generator: str) -> None:
    index, size, expected = case["index"], case["size"], hs(case["proof"])
    assert expected == INCLUSION_GENERATORS[generator](REF_LEAVES, index, size)
    assert verify_inclusion(REF_LEAVES[index], index, size, expected, REF_ROOTS[size])


def test_real_ct_log_audit_path_verifies() -> None:
    case = vectors("ct_python_merkle_test.json")["audit_path"]
    entry, proof, tree_root = h(case["raw_leaf"]), hs(case["proof"]), h(case["root"])
    assert h(case["leaf_hash"]) == leaf_hash(entry)
    assert verify_inclusion(entry, case["index"], case["size"], proof, tree_root)
    assert not verify_inclusion(entry, case["index"], case["size"], proof, bytes(32))
    assert not verify_inclusion(entry, case["index"] + 2**23, case["size"], proof, tree_root)


def _from_node_ids(case: dict[str, Any]) -> list[bytes]:
    """The proof a proof_test.go case describes, with its ephemeral node folded."""
    nodes = [perfect(ID_LEAF_HASHES, level, index) for level, index in case["nodes"]]
    if "rehash" in case:
        begin, end = case["rehash"]
        folded = nodes[begin]
        for node in nodes[begin + 1 : end]:
            folded = node_hash(node, folded)
        nodes[begin:end] = [folded]
    return nodes


NODE_IDS = vectors("proof_node_ids.json")
ID_LEAF_HASHES = [leaf_hash(x) for x in entries(96)]


@pytest.mark.parametrize("case", NODE_IDS["inclusion"], ids=lambda c: f"{c['index']}of{c['size']}")
def test_inclusion_proof_holds_the_reference_nodes(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(ValidationError):
            inclusion_proof_from_hashes(ID_LEAF_HASHES, case["index"], case["size"])
        return
    expected = _from_node_ids(case)
    assert expected == inclusion_proof_from_hashes(ID_LEAF_HASHES, case["index"], case["size"])


# --- §2.1.4 consistency: known answers ---------------------------------------------------


@pytest.mark.parametrize("generator", CONSISTENCY_GENERATORS)
@pytest.mark.parametrize("case", REF["consistency"], ids=lambda c: f"{c['size1']}to{c['size2']}")
def test_consistency_proof_matches_reference(case: dict[str, Any], generator: str) -> None:
    m, n, expected = case["size1"], case["size2"], hs(case["proof"])
    assert expected == CONSISTENCY_GENERATORS[generator](REF_LEAVES, m, n)
    assert verify_consistency(m, n, REF_ROOTS[m], REF_ROOTS[n], expected)


def test_ct_consistency_vectors_verify_and_their_bad_cases_fail() -> None:
    ct = vectors("ct_python_merkle_test.json")
    for c in ct["consistency"]:
        args = (c["size1"], c["size2"], h(c["root1"]), h(c["root2"]), hs(c["proof"]))
        assert verify_consistency(*args), c
    for c in ct["bad_consistency"]:
        args = (c["size1"], c["size2"], h(c["root1"]), h(c["root2"]), hs(c["proof"]))
        assert not verify_consistency(*args), c["desc"]


@pytest.mark.parametrize(
    "case", NODE_IDS["consistency"], ids=lambda c: f"{c['size1']}to{c['size2']}"
)
def test_consistency_proof_holds_the_reference_nodes(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(ValidationError):
            consistency_proof_from_hashes(ID_LEAF_HASHES, case["size1"], case["size2"])
        return
    expected = _from_node_ids(case)
    assert expected == consistency_proof_from_hashes(ID_LEAF_HASHES, case["size1"], case["size2"])


# --- corruption probes: each must fail ------------------------------------------------------

SOME_HASH = h(REF["some_hash"])


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ (1 << bit)]) + changed[i][1:]
    return changed


def inclusion_probes(
    index: int, size: int, proof: list[bytes], tree_root: bytes, lh: bytes
) -> dict[str, tuple[Any, ...]]:
    """transparency-dev/merkle's corruptInclusionProof, plus a hash flip of every proof
    element and the leaf, and a swap of leaf and root."""
    probes: dict[str, tuple[Any, ...]] = {
        "index - 1": (lh, index - 1, size, proof, tree_root),
        "index + 1": (lh, index + 1, size, proof, tree_root),
        "index ^ 2": (lh, index ^ 2, size, proof, tree_root),
        "size * 2": (lh, index, size * 2, proof, tree_root),
        "size / 2": (lh, index, size // 2, proof, tree_root),
        "wrong leaf": (leaf_hash(b"WrongLeaf"), index, size, proof, tree_root),
        "flipped leaf": (_flip([lh], 0, 0)[0], index, size, proof, tree_root),
        "empty root": (lh, index, size, proof, EMPTY_ROOT),
        "random root": (lh, index, size, proof, SOME_HASH),
        "flipped root": (lh, index, size, proof, _flip([tree_root], 0, 7)[0]),
        "trailing garbage": (lh, index, size, [*proof, b""], tree_root),
        "trailing root": (lh, index, size, [*proof, tree_root], tree_root),
        "preceding garbage": (lh, index, size, [b"", *proof], tree_root),
        "preceding root": (lh, index, size, [tree_root, *proof], tree_root),
    }
    if lh != tree_root:
        probes["swapped leaf and root"] = (tree_root, index, size, proof, lh)
    for i in range(len(proof)):
        probes[f"proof[{i}] bit 3 flipped"] = (lh, index, size, _flip(proof, i, 3), tree_root)
    if proof:
        probes["removed component"] = (lh, index, size, proof[:-1], tree_root)
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes["inserted component"] = (lh, index, size, inserted, tree_root)
    return probes


def consistency_probes(
    m: int, n: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> dict[str, tuple[Any, ...]]:
    """transparency-dev/merkle's corruptConsistencyProof, plus a flip of every element."""
    probes: dict[str, tuple[Any, ...]] = {
        "size1 - 1": (m - 1, n, root1, root2, proof),
        "size1 + 1": (m + 1, n, root1, root2, proof),
        "size1 ^ 2": (m ^ 2, n, root1, root2, proof),
        "size2 * 2": (m, n * 2, root1, root2, proof),
        "size2 / 2": (m, n // 2, root1, root2, proof),
        "wrong root1": (m, n, SOME_HASH, root2, proof),
        "wrong root2": (m, n, root1, SOME_HASH, proof),
        "swapped roots": (m, n, root2, root1, proof),
        "empty proof": (m, n, root1, root2, []),
        "trailing garbage": (m, n, root1, root2, [*proof, b""]),
        "trailing root1": (m, n, root1, root2, [*proof, root1]),
        "trailing root2": (m, n, root1, root2, [*proof, root2]),
        "preceding garbage": (m, n, root1, root2, [b"", *proof]),
        "preceding root1": (m, n, root1, root2, [root1, *proof]),
        "preceding root2": (m, n, root1, root2, [root2, *proof]),
        "preceding proof[0]": (m, n, root1, root2, [proof[0], *proof]),
        "truncated proof": (m, n, root1, root2, proof[:-1]),
        "proof reversed": (m, n, root1, root2, proof[::-1]),
    }
    if len(proof) == 1:
        del probes["proof reversed"]
    for i in range(len(proof)):
        probes[f"proof[{i}] bit 4 flipped"] = (m, n, root1, root2, _flip(proof, i, 4))
    return probes


PROBE_SIZES = [*range(1, 34), 63, 64, 65, 95, 127, 128, 129, 255, 256, 257, 1000]


def _sample(n: int) -> list[int]:
    """Every position for small n; both ends, powers of two and their neighbours else."""
    if n <= 40:
        return list(range(n))
    picks = {0, 1, n // 3, n // 2, n - 2, n - 1}
    picks |= {p + d for p in (1 << k for k in range(n.bit_length())) for d in (-1, 0, 1)}
    return sorted(i for i in picks if 0 <= i < n)


@pytest.mark.parametrize("size", PROBE_SIZES)
def test_corrupted_inclusion_proofs_fail(size: int) -> None:
    leaf_hashes = [leaf_hash(x) for x in entries(size)]
    tree_root = root_from_hashes(leaf_hashes)
    accepted = []
    for index in _sample(size):
        proof = inclusion_proof_from_hashes(leaf_hashes, index, size)
        assert verify_inclusion_hash(leaf_hashes[index], index, size, proof, tree_root)
        probes = inclusion_probes(index, size, proof, tree_root, leaf_hashes[index])
        for desc, args in probes.items():
            if verify_inclusion_hash(*args):
                accepted.append(f"{index}/{size}: {desc}")
    assert accepted == []


@pytest.mark.parametrize("new_size", PROBE_SIZES[1:])
def test_corrupted_consistency_proofs_fail(new_size: int) -> None:
    leaf_hashes = [leaf_hash(x) for x in entries(new_size)]
    root2 = root_from_hashes(leaf_hashes)
    accepted = []
    for old_size in _sample(new_size)[1:]:
        proof = consistency_proof_from_hashes(leaf_hashes, old_size, new_size)
        root1 = root_from_hashes(leaf_hashes[:old_size])
        assert verify_consistency(old_size, new_size, root1, root2, proof)
        for desc, args in consistency_probes(old_size, new_size, root1, root2, proof).items():
            if verify_consistency(*args):
                accepted.append(f"{old_size}->{new_size}: {desc}")
    assert accepted == []


# --- edge cases of the verifiers -------------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1), (-1, 1), (-1, 0)])
def test_inclusion_never_verifies_with_an_empty_root_or_leaf(index: int, size: int) -> None:
    # transparency-dev/merkle TestVerifyInclusion: degenerate indices and sizes.
    assert not verify_inclusion_hash(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion_hash(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion_hash(SOME_HASH, index, size, [], EMPTY_ROOT)


def test_single_leaf_tree_proof_is_empty_and_root_is_the_leaf_hash() -> None:
    lh = leaf_hash(b"data")
    assert verify_inclusion_hash(lh, 0, 1, [], lh)
    assert not verify_inclusion_hash(lh, 0, 1, [], b"")
    assert not verify_inclusion_hash(b"", 0, 1, [], b"")


ROOT1, ROOT2 = b"don't care 1".ljust(32, b"."), b"don't care 2".ljust(32, b".")


@pytest.mark.parametrize(
    ("m", "n", "root1", "root2", "proof", "ok"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, ROOT2, [], True),
        (1, 1, ROOT2, ROOT2, [], True),
        (0, 0, ROOT1, ROOT2, [], False),
        (1, 1, ROOT1, ROOT2, [], False),
        (0, 1, ROOT1, ROOT2, [], False),  # stricter than Go: size 0 has a root, SHA-256()
        (1, 0, ROOT1, ROOT2, [], False),  # time travel to the past
        (2, 1, ROOT1, ROOT2, [], False),
        (1, 2, ROOT1, ROOT2, [], False),  # empty proof
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),  # roots match, proof is not empty
        (0, 1, EMPTY_ROOT, ROOT2, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (-1, 1, EMPTY_ROOT, ROOT2, [], False),
        (1, 1, b"short", b"short", [], False),
    ],
)
def test_consistency_edge_cases(
    m: int, n: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert ok == verify_consistency(m, n, root1, root2, proof)


@pytest.mark.parametrize(
    "call",
    [
        lambda: verify_inclusion_hash("ab" * 16, 0, 1, [], EMPTY_ROOT),  # type: ignore[arg-type]
        lambda: verify_inclusion_hash(EMPTY_ROOT, True, 1, [], EMPTY_ROOT),
        lambda: verify_inclusion_hash(EMPTY_ROOT, 0, 1.0, [], EMPTY_ROOT),  # type: ignore[arg-type]
        lambda: verify_inclusion_hash(EMPTY_ROOT, 0, 2, EMPTY_ROOT, EMPTY_ROOT),  # type: ignore[arg-type]
        lambda: verify_inclusion_hash(EMPTY_ROOT, 0, 2, [None], EMPTY_ROOT),  # type: ignore[list-item]
        lambda: verify_inclusion(None, 0, 1, [], EMPTY_ROOT),  # type: ignore[arg-type]
        lambda: verify_consistency(1, "2", EMPTY_ROOT, EMPTY_ROOT, []),  # type: ignore[arg-type]
        lambda: verify_consistency(1, 2, EMPTY_ROOT, None, []),  # type: ignore[arg-type]
        lambda: leaf_hash("text"),  # type: ignore[arg-type]
        lambda: node_hash(EMPTY_ROOT, 1),  # type: ignore[arg-type]
    ],
)
def test_arguments_of_the_wrong_type_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: inclusion_proof(entries(4), 4, 4),
        lambda: inclusion_proof(entries(4), -1, 4),
        lambda: inclusion_proof(entries(4), 0, 5),  # more leaves asked than given
        lambda: inclusion_proof(entries(4), 0, 0),
        lambda: consistency_proof(entries(4), 3, 2),
        lambda: consistency_proof(entries(4), 2, 5),
        lambda: consistency_proof(entries(4), -1, 2),
        lambda: inclusion_proof_from_hashes([b"short"] * 4, 0, 4),
        lambda: root_from_hashes([b"short"]),
        lambda: consistency_proof_from_hashes([b"short"] * 4, 1, 4),
    ],
)
def test_generators_refuse_impossible_requests(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()


def test_consistency_proof_is_empty_from_the_empty_tree_and_to_the_same_size() -> None:
    assert consistency_proof(entries(5), 0, 5) == []
    assert consistency_proof(entries(5), 5, 5) == []
    assert consistency_proof([], 0, 0) == []


# --- the frontier --------------------------------------------------------


def test_frontier_survives_a_round_trip_through_storage() -> None:
    frontier = Frontier.from_leaf_hashes(leaf_hash(x) for x in entries(1000))
    stored_size, stored = frontier.size, frontier.to_list()
    restored = Frontier.from_list(stored_size, stored)
    assert frontier == restored
    restored.append(leaf_hash(b"one more"))
    frontier.append(leaf_hash(b"one more"))
    assert root([*entries(1000), b"one more"]) == restored.root() == frontier.root()


def test_frontier_of_the_empty_tree_round_trips() -> None:
    assert Frontier.from_list(0, []).root() == EMPTY_ROOT
    assert Frontier.from_list(0, []) == Frontier.empty()
    assert Frontier.empty().to_list() == []


def test_frontier_root_follows_appends() -> None:
    frontier = Frontier.empty()
    roots = []
    for entry in entries(5):
        frontier.append(leaf_hash(entry))
        roots.append(frontier.root())
    assert roots == [root(entries(n)) for n in range(1, 6)]
    copy = Frontier.from_list(frontier.size, frontier.to_list())
    copy.append(leaf_hash(b"only in the copy"))
    assert frontier.root() == root(entries(5)) != copy.root()


def test_frontier_to_list_is_a_copy() -> None:
    frontier = Frontier.from_leaf_hashes([leaf_hash(b"a")])
    frontier.to_list().clear()
    assert leaf_hash(b"a") == frontier.root()


@pytest.mark.parametrize(
    ("size", "hashes"),
    [
        (3, [EMPTY_ROOT]),  # 3 = 0b11 needs two hashes
        (4, [EMPTY_ROOT, EMPTY_ROOT]),
        (0, [EMPTY_ROOT]),
        (1, [b"short"]),
        (1, ["ab" * 16]),
        (-1, []),
        (True, [EMPTY_ROOT]),
    ],
)
def test_frontier_from_list_refuses_what_does_not_fit(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(ValidationError):
        Frontier.from_list(size, hashes)


@pytest.mark.parametrize("bad", [b"short", "ab" * 16, None, bytearray(32)])
def test_frontier_refuses_anything_but_a_32_byte_leaf_hash(bad: object) -> None:
    frontier = Frontier.empty()
    with pytest.raises(ValidationError):
        frontier.append(bad)  # type: ignore[arg-type]
    assert frontier.size == 0


# --- properties ------------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=150)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_frontier_root_equals_root_at_every_size(leaves: list[bytes]) -> None:
    frontier = Frontier.empty()
    assert root([]) == frontier.root()
    for size, entry in enumerate(leaves, start=1):
        frontier.append(leaf_hash(entry))
        assert root(leaves[:size]) == frontier.root()
        assert size == frontier.size


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_generated_inclusion_proofs_verify(leaves: list[bytes], data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index, size)
    assert verify_inclusion(leaves[index], index, size, proof, root(leaves[:size]))


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_generated_consistency_proofs_verify(leaves: list[bytes], data: st.DataObject) -> None:
    new = data.draw(st.integers(0, len(leaves)), label="new_size")
    old = data.draw(st.integers(0, new), label="old_size")
    proof = consistency_proof(leaves, old, new)
    assert verify_consistency(old, new, root(leaves[:old]), root(leaves[:new]), proof)


junk_hashes = st.lists(st.binary(min_size=0, max_size=40), max_size=70)


@settings(max_examples=300, deadline=None)
@given(
    lh=st.binary(max_size=40),
    index=st.integers(-(2**70), 2**70),
    size=st.integers(-(2**70), 2**70),
    proof=junk_hashes,
    tree_root=st.binary(max_size=40),
)
def test_inclusion_verifier_answers_junk_with_false(
    lh: bytes, index: int, size: int, proof: list[bytes], tree_root: bytes
) -> None:
    assert verify_inclusion_hash(lh, index, size, proof, tree_root) is False


@settings(max_examples=300, deadline=None)
@given(
    m=st.integers(-(2**70), 2**70),
    n=st.integers(-(2**70), 2**70),
    root1=st.binary(min_size=32, max_size=32),
    root2=st.binary(min_size=32, max_size=32),
    proof=junk_hashes,
)
def test_consistency_verifier_answers_junk_with_false(
    m: int, n: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    # Random 32-byte roots only match by accident when m == n or m == 0, handled first.
    if (m == n and root1 == root2 and not proof) or (m == 0 <= n and root1 == EMPTY_ROOT):
        return
    assert verify_consistency(m, n, root1, root2, proof) is False
