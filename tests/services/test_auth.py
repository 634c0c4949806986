"""Operators' passwords: a hash made with other Argon2 parameters is brought up to the
node's own at the next good login."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from hotline.services import auth
from hotline.storage import users
from tests.conftest import MakeNode

PASSWORD = "correct horse battery"


def test_a_password_hashed_with_other_parameters_is_rehashed_at_its_next_login(
    make_node: MakeNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us")
    node.auth.add_user("duty", PASSWORD)  # hashed cheaply, as in every test
    cheap = auth._hasher
    real = PasswordHasher(
        time_cost=cheap.time_cost + 1, memory_cost=cheap.memory_cost * 2, parallelism=1
    )
    monkeypatch.setattr(auth, "_hasher", real)  # as a node with stronger parameters

    node.auth.login("duty", PASSWORD)

    with node.db.read() as conn:
        stored = users.get(conn, "duty")
    assert stored is not None
    assert not real.check_needs_rehash(stored.password_hash)
    assert real.verify(stored.password_hash, PASSWORD)
    node.auth.login("duty", PASSWORD)  # and it still logs in
