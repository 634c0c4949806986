"""Attachments at the service level, on both backends: limits, sniffing, stored once,
carried in chunks over real HTTP between two in-process nodes, a bad chunk refused,
a transfer cut off resumed, the bytes in the evidence bundle."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.domain.attachments import content_type_of, sniff
from hotline.domain.line import Envelope
from hotline.errors import (
    Conflict,
    MalformedMessage,
    MessageTooLarge,
    NotFound,
    Unreachable,
    UnsupportedContent,
    ValidationError,
)
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import parse
from hotline.services.attachments.pull import HttpFetch, Puller
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from hotline.services.runtime.jobs import Next
from hotline.storage import attachments as attachment_store
from hotline.storage.tables.attachments import blob_chunks, blobs
from tests.conftest import MakeNode, MakePair, Pair, token
from tests.web.conftest import Console
from tests.web.conftest import consoles as consoles  # the fixture

CHUNK = 1024  # the smallest chunk size: a 10 KiB file crosses in 10 chunks


def png(size: int, seed: int = 0) -> bytes:
    """A real PNG (one grey row per 64 bytes of noise) of about ``size`` bytes."""
    width = 64
    rows = max(1, size // (width + 1))
    raw = b"".join(
        b"\x00" + hashlib.sha256(f"{seed}:{y}".encode()).digest() * 2 for y in range(rows)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + rows.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0))
        + chunk(b"IEND", b"")
    )


# -- what a file is, by its bytes (pure: no backend) ----------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (png(100), None, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", "image/jpeg"),
        (b"%PDF-1.7\n...", "application/pdf", "application/pdf"),
        (b"time,lat,lon\n12:00,44.1,33.2\n", "text/csv", "text/csv"),
        ("Радар: цель 1\n".encode(), None, "text/plain"),
        (
            b'{"type": "FeatureCollection", "features": []}',
            "application/geo+json",
            "application/geo+json",
        ),
        (
            b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"/>',
            None,
            "application/vnd.google-earth.kml+xml",
        ),
    ],
)
def test_the_type_is_judged_by_the_bytes(data: bytes, declared: str | None, expected: str) -> None:
    assert expected == content_type_of(data, declared)


@pytest.mark.parametrize(
    ("data", "declared", "said"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", None, "none of the allowed kinds"),  # an executable
        (b"%PDF-1.7", "image/png", "declared image/png, but the bytes are application/pdf"),
        (png(100), "text/html", "not allowed"),
        (b"<html><script>alert(1)</script>", "image/png", "but the bytes are text/plain"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(
    data: bytes, declared: str | None, said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        content_type_of(data, declared)
    assert sniff(b"\x00\x01\x02") is None


# -- upload: limits, sniffing, stored once --------------------------------------------------


def test_an_upload_over_the_limit_or_of_a_refused_type_stores_nothing(
    make_node: MakeNode,
) -> None:
    node = make_node("us", max_attachment_bytes=4096)
    with pytest.raises(MessageTooLarge, match="limit is 4096"):
        node.attachments.upload(png(5000), name="big.png")
    with pytest.raises(UnsupportedContent, match="none of the allowed kinds"):
        node.attachments.upload(b"MZ\x90\x00" * 10, name="tool.exe")
    with pytest.raises(ValidationError, match="empty"):
        node.attachments.upload(b"", name="empty.txt")
    with pytest.raises(ValidationError, match="not a path"):
        node.attachments.upload(b"hello", name="../hello.txt")
    with node.db.read() as conn:
        assert 0 == conn.execute(select(func.count()).select_from(blobs)).scalar_one()
    with pytest.raises(NotFound, match="upload it first"):
        node.attachments.refs([{"sha256": hashlib.sha256(b"hello").hexdigest()}])


def test_the_same_bytes_attached_to_two_messages_are_stored_once(pair: Pair) -> None:
    data = png(3000)
    first = pair.us.attachments.upload(data, name="radar.png")
    again = pair.us.attachments.upload(data, name="radar-copy.png")
    assert (False, True, first["sha256"]) == (
        first["deduplicated"],
        again["deduplicated"],
        again["sha256"],
    )
    refs = pair.us.attachments.refs([{"sha256": first["sha256"]}])
    for text in ("one", "two"):
        pair.us.line.send(to="ru", text=text, user="duty", attachments=refs)
    pair.flush()
    Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).run()
    for node in (pair.us, pair.ru):
        with node.db.read() as conn:
            counted = [
                conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (blobs, blob_chunks)
            ]
        chunks = -(-len(data) // node.settings.attachment_chunk_bytes)
        assert [1, chunks] == counted
        assert 2 == len(node.attachments.info(first["sha256"])["messages"])

    # a FLASH message held for a second person keeps its files when approved
    for name in ("duty", "duty2"):
        pair.us.auth.add_user(name, "correct horse")
    held = pair.us.held.hold(
        "text",
        to="ru",
        payload={"text": "FLASH with a plot", "attachments": refs},
        precedence="FLASH",
        lang=None,
        user="duty",
    )
    sent = pair.us.held.approve(held["id"], "duty2")
    assert refs == pair.us.show(sent["message_id"])["envelope"]["attachments"]


# -- over the line --------------------------------------------------------------------------


@pytest.fixture
def chunked(make_pair: MakePair) -> Any:
    with make_pair(us={"attachment_chunk_bytes": CHUNK}) as made:
        yield made


def send_with_file(pair: Pair, data: bytes, name: str = "radar.png") -> tuple[str, str]:
    uploaded = pair.us.attachments.upload(data, name=name)
    refs = pair.us.attachments.refs([{"sha256": uploaded["sha256"]}])
    sent = pair.us.line.send(to="ru", text="Radar plot attached", user="duty", attachments=refs)
    pair.flush()
    return str(sent["id"]), str(uploaded["sha256"])


def fetch_then(
    pair: Pair, change: Callable[[int, bytes], bytes], log: list[str] | None = None
) -> Callable[[str, str], bytes]:
    """The real fetch over HTTP, with ``change(n, body)`` applied to the n-th chunk."""
    real = HttpFetch(pair.ru.line, None)
    count = [0]

    def fetch(peer: str, path: str) -> bytes:
        body = real(peer, path)
        if log is not None:
            log.append(path)
        if "/chunks/" not in path:
            return body
        count[0] += 1
        return change(count[0], body)

    return fetch


def test_a_file_crosses_in_chunks_and_a_transfer_cut_off_resumes(chunked: Pair) -> None:
    pair, data = chunked, png(10_000)
    message_id, digest = send_with_file(pair, data)
    shown = pair.ru.show(message_id)  # received: the envelope is receipted, the file not yet
    assert ("received", False, "partial") == (
        shown["state"],
        shown["attachments_complete"],
        shown["attachments"][0]["state"],
    )

    def die_after_four(n: int, body: bytes) -> bytes:
        if n > 4:
            raise Unreachable("the sender went away")
        return body

    assert Next.BACK_OFF == Puller(pair.ru.line, fetch_then(pair, die_after_four)).step()
    assert 4 == pair.ru.attachments.info(digest)["stored"]

    asked: list[str] = []
    resumed = Puller(pair.ru.line, fetch_then(pair, lambda _n, body: body, asked))
    resumed.run()
    total = -(-len(data) // CHUNK)
    assert (total - 4, [f"/chunks/{i}" for i in range(4, total)]) == (
        resumed.fetched,
        [path[path.index("/chunks/") :] for path in asked],
    )  # the manifest was kept: only the missing chunks were asked for
    row, got = pair.ru.attachments.read(digest)
    assert (data, "complete", "image/png") == (got, row["state"], row["content_type"])
    shown = pair.ru.show(message_id)
    assert shown["attachments_complete"] is True
    assert "attachment_complete" in [step["kind"] for step in shown["trail"]]


def test_a_chunk_or_a_file_not_as_signed_is_refused_and_nothing_stored_is_damaged(
    chunked: Pair,
) -> None:
    pair, data = chunked, png(6000)
    _message_id, digest = send_with_file(pair, data)

    def flip_third(n: int, body: bytes) -> bytes:
        return body[:10] + bytes([body[10] ^ 1]) + body[11:] if n == 3 else body

    assert Next.BACK_OFF == Puller(pair.ru.line, fetch_then(pair, flip_third)).step()
    info = pair.ru.attachments.info(digest)
    assert (2, 1, "partial") == (info["stored"], info["failures"], info["state"])
    assert "chunk 2" in info["detail"]
    Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).run()
    assert data == pair.ru.attachments.read(digest)[1]

    # a sender that signs a type its bytes are not (an HTML page as "image/png"): refused
    page = pair.us.attachments.upload(b"<html><script>alert(1)</script>", name="x.txt")
    with pair.us.db.write() as conn:
        attachment_store.update_blob(conn, page["sha256"], content_type="image/png")
    _message_id, _ = send_with_file(pair, b"<html><script>alert(1)</script>", name="x.png")
    Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).run()
    info = pair.ru.attachments.info(page["sha256"])
    assert ("refused", "not the signed type") == (info["state"], info["detail"][:19])
    with pytest.raises(Conflict, match="not here whole"):
        pair.ru.attachments.read(page["sha256"])


def test_a_peer_over_its_quota_is_not_fetched_and_the_line_goes_on(make_pair: MakePair) -> None:
    with make_pair(ru={"attachment_peer_quota_bytes": 4096}) as pair:
        message_id, digest = send_with_file(pair, png(5000))
        later = pair.us.line.send(to="ru", text="after the file", user="duty")
        pair.flush()
        assert "delivered" == pair.us.show(later["id"])["state"]  # the line did not stop
        assert "refused" == pair.ru.attachments.info(digest)["state"]
        [alarm] = pair.ru.alarms.listing("open")
        assert ("attachment_refused", message_id) == (alarm["kind"], alarm["detail"]["message"])
        assert Next.IDLE == Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).step()


# -- the operator API ------------------------------------------------------------------------


def test_upload_and_send_over_the_api_and_what_the_envelope_and_a_peer_see(pair: Pair) -> None:
    api = pair.us.settings.endpoints[0] + "/api/v1"
    auth = {"authorization": f"Bearer {token(pair.us)}"}
    data = png(2000)
    up = pair.http.post(
        f"{api}/attachments",
        params={"name": "radar.png"},
        content=data,
        headers=auth | {"content-type": "image/png"},
    )
    assert (201, "image/png", len(data)) == (
        up.status_code,
        up.json()["content_type"],
        up.json()["size"],
    )
    lying = pair.http.post(
        f"{api}/attachments",
        params={"name": "x.pdf"},
        content=data,
        headers=auth | {"content-type": "application/pdf"},
    )
    assert (415, "unsupported_content") == (lying.status_code, lying.json()["error"]["code"])
    huge = pair.http.post(
        f"{api}/attachments",
        params={"name": "big.png"},
        content=b"\x89PNG\r\n\x1a\n" + bytes(pair.us.settings.max_attachment_bytes),
        headers=auth | {"content-type": "image/png"},
    )
    assert (413, "too_large") == (huge.status_code, huge.json()["error"]["code"])
    choice = {"sha256": up.json()["sha256"], "name": "plot.png"}
    sent = pair.http.post(
        f"{api}/messages",
        json={"to": "ru", "text": "see the plot", "attachments": [choice]},
        headers=auth,
    )
    assert 201 == sent.status_code, sent.text
    shown = pair.http.get(f"{api}/messages/{sent.json()['id']}", headers=auth).json()
    assert [choice | {"content_type": "image/png", "size": len(data)}] == shown["envelope"][
        "attachments"
    ]
    got = pair.http.get(f"{api}/attachments/{choice['sha256']}/content", headers=auth)
    assert (data, "nosniff") == (got.content, got.headers["x-content-type-options"])
    # a message without files has no `attachments` member; one with them is checked
    plain = pair.us.line.send(to="ru", text="no files", user="duty")
    assert "attachments" not in pair.us.show(plain["id"])["envelope"]
    envelope = pair.us.show(plain["id"])["envelope"]
    ref = {"sha256": "a" * 64, "name": "x.png", "content_type": "image/png", "size": 1}
    for bad, said in [
        ([], "at least 1"),
        ([ref] * 2, "attached twice"),
        ([ref | {"name": "../../etc/passwd"}], "not a path"),
        ([ref | {"size": 0}], "greater than or equal to 1"),
        ([ref | {"content_type": "text/html"}], "not an allowed type"),
        ([ref | {"sha256": "b" * 64 + str(i)} for i in range(9)], "at most 8"),
    ]:
        with pytest.raises(MalformedMessage, match=said):
            parse(envelope | {"attachments": bad}, Envelope)
    # a peer is served only what this node sent
    uploaded = pair.us.attachments.upload(b"not sent yet", name="draft.txt")
    base = pair.us.settings.endpoints[0] + "/federation/v1/attachments/"
    assert 404 == pair.http.get(base + uploaded["sha256"]).status_code


# -- evidence ---------------------------------------------------------------------------------


def test_the_bundle_carries_the_bytes_and_one_changed_byte_is_named(chunked: Pair) -> None:
    pair, data = chunked, png(3000)
    message_id, digest = send_with_file(pair, data, name="plot.png")
    before = verify_bundle(
        export_bundle(pair.ru.evidence, message_id, allow_uncosigned=True), allow_uncosigned=True
    )
    assert any("is not in the bundle" in said for said in before.missing)  # not fetched yet
    Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).run()
    raw = export_bundle(pair.ru.evidence, message_id, allow_uncosigned=True)
    verdict = verify_bundle(raw, allow_uncosigned=True)
    assert verdict.ok, verdict.failed
    assert any("ATTACHMENT 1: 'plot.png'" in said for said in verdict.proven)
    bundle = json.loads(raw)
    changed = bytearray(base64.b64decode(bundle["attachments"][0]["data"]))
    changed[len(changed) // 2] ^= 0x01
    bundle["attachments"][0]["data"] = base64.b64encode(bytes(changed)).decode()
    verdict = verify_bundle(canonical(bundle) + b"\n", allow_uncosigned=True)
    [named] = [f for f in verdict.failed if f.startswith("attachment 1 ('plot.png')")]
    assert f"not the SHA-256 {digest}" in named


# -- the console --------------------------------------------------------------------------------


def test_the_console_sends_files_and_lists_them_with_a_preview(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    data = png(5000)
    form = {"csrf": consoles["us"].csrf, "to": "ru", "text": "plot", "client_ref": "c-att"}
    files = [
        ("files", ("plot.png", data, "image/png")),
        ("files", ("t.csv", b"a,b\n1,2\n", "text/csv")),
    ]
    sent = consoles["us"].http.post("/console/compose/text", data=form, files=files)
    assert 303 == sent.status_code, sent.text
    message_id = sent.headers["location"].rsplit("/", 1)[1]
    refs = pair.us.show(message_id)["envelope"]["attachments"]
    assert [("plot.png", "image/png"), ("t.csv", "text/csv")] == [
        (r["name"], r["content_type"]) for r in refs
    ]
    pair.flush()
    page = consoles["ru"].get(f"/console/messages/{message_id}").text
    assert "Ещё не все файлы получены" in page  # not fetched yet (ru's console is in Russian)
    assert "/console/attachments/" not in page
    Puller(pair.ru.line, HttpFetch(pair.ru.line, None)).run()
    page = consoles["ru"].get(f"/console/messages/{message_id}").text
    digest = hashlib.sha256(data).hexdigest()
    assert f'<img class="attachment-preview" src="/console/attachments/{digest}?inline=1"' in page
    got = consoles["ru"].get(f"/console/attachments/{digest}")
    assert (data, "image/png") == (got.content, got.headers["content-type"])
    lying = consoles["us"].http.post(
        "/console/compose/text",
        data=form | {"client_ref": "c-bad"},
        files=[("files", ("x.png", b"MZ\x90\x00 not an image", "image/png"))],
    )
    assert "none of the allowed kinds" in lying.text
