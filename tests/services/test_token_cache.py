"""The token cache: a process keeps the tokens it has validated, yet a session ended on
any process of the node (logout, disable, new password) ends at once on every other, and
a token's expiry is still kept by the node's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event

from hotline.clock import FakeClock
from hotline.errors import AuthError
from hotline.node import Node
from hotline.services.auth import Auth
from hotline.storage.db import Database
from tests.conftest import MakeNode

PASSWORD = "correct horse battery"


@pytest.fixture
def two(make_node: MakeNode, clock: FakeClock) -> Iterator[tuple[Node, Auth]]:
    """A node, and a second process's ``Auth`` over the same database (its own engine,
    its own cache), on the same clock."""
    node = make_node("us")
    node.auth.add_user("duty", PASSWORD)
    db = Database(node.settings.db_url)
    try:
        yield node, Auth(db, clock, node.settings.token_ttl_s)
    finally:
        db.dispose()


def _statements(db: Database) -> list[str]:
    seen: list[str] = []
    for engine in {db._writer, db._reader}:  # SQLite reads on an engine of their own
        event.listen(engine, "before_cursor_execute", lambda *a: seen.append(str(a[2])))
    return seen


def test_a_validated_token_costs_one_small_read(two: tuple[Node, Auth]) -> None:
    node, other = two
    token, _ = node.auth.login("duty", PASSWORD)
    assert other.authenticate(token).name == "duty"  # checked, then kept
    seen = _statements(other.db)
    for _ in range(3):
        assert other.authenticate(token).name == "duty"
    queries = [sql for sql in seen if sql != "BEGIN"]  # SQLite's explicit BEGIN
    assert 3 == len(queries)
    assert all("sessions_gen" in sql for sql in queries)


def test_a_logout_on_one_process_ends_the_session_on_another_at_once(
    two: tuple[Node, Auth],
) -> None:
    node, other = two
    token, _ = node.auth.login("duty", PASSWORD)
    kept, _ = node.auth.login("duty", PASSWORD)
    assert other.authenticate(token).name == "duty"
    assert other.authenticate(kept).name == "duty"
    node.auth.logout(token)
    with pytest.raises(AuthError):
        other.authenticate(token)
    assert other.authenticate(kept).name == "duty"  # another session of theirs goes on


@pytest.mark.parametrize("how", ["disable", "password"])
def test_disabling_a_user_or_a_new_password_ends_their_sessions_everywhere(
    two: tuple[Node, Auth], how: str
) -> None:
    node, other = two
    token, _ = node.auth.login("duty", PASSWORD)
    assert other.authenticate(token).name == "duty"
    if how == "disable":
        node.auth.set_disabled("duty", True)
    else:
        node.auth.set_password("duty", "another long passphrase here")
    with pytest.raises(AuthError):
        other.authenticate(token)
    with pytest.raises(AuthError):
        node.auth.authenticate(token)


def test_a_cached_token_still_expires_by_the_nodes_clock(
    two: tuple[Node, Auth], clock: FakeClock
) -> None:
    node, other = two
    token, _ = node.auth.login("duty", PASSWORD)
    assert other.authenticate(token).name == "duty"
    clock.advance(timedelta(seconds=node.settings.token_ttl_s - 1))
    assert other.authenticate(token).name == "duty"
    clock.advance(timedelta(seconds=2))
    with pytest.raises(AuthError):
        other.authenticate(token)


def test_the_cache_is_bounded(two: tuple[Node, Auth], monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.services import auth

    monkeypatch.setattr(auth, "TOKEN_CACHE_SIZE", 3)
    node, other = two
    tokens = [node.auth.login("duty", PASSWORD)[0] for _ in range(5)]
    for token in tokens:
        assert other.authenticate(token).name == "duty"
    assert 3 == len(other._cache)
    assert all(other.authenticate(token).name == "duty" for token in tokens)
