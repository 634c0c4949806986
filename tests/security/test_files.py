"""File modes (issue 13, item 6): the node's folder 0700, its database and the database's
side files 0600, a saved token 0600 always; a node whose key, database or folder other
users may read does not start, and says which file and the ``chmod`` that fixes it.

Real files, the real ``hotline`` command in its own process, under a permissive umask
(022, as many shells have): the command makes its files private itself.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hotline.client import TOKEN_FILE
from hotline.storage.db import SIDE_FILES, Database
from hotline.testing import NodeProcess, free_port, wait_for
from tests.security._hostile import HostilePeer, cli_env, hotline, served_us


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def init(directory: Path) -> str:
    """``hotline init`` a node "us" in ``directory`` on TLS; its endpoint (a free port)."""
    url = f"https://127.0.0.1:{free_port()}"
    made = hotline(
        "init", "--party", "us", "--name", "United States", "--dir", str(directory),
        "--endpoint", url,
    )  # fmt: skip
    assert 0 == made.returncode, made.stderr
    return url


def serving(directory: Path, endpoint: str) -> NodeProcess:
    """A ``hotline serve`` process of the node in ``directory``: its federation listener
    at ``endpoint``, its operator listener on a free port (both TLS)."""
    operator = f"127.0.0.1:{free_port()}"
    return NodeProcess(
        directory,
        f"https://{operator}",
        cli_env(),
        args=("--operator-listen", operator),
        federation_url=endpoint,
    )


def test_init_and_serve_keep_the_folder_key_and_database_private(tmp_path: Path) -> None:
    us = tmp_path / "us"
    us.mkdir(mode=0o755)  # an existing empty folder, open to others: init closes it
    us.chmod(0o755)
    url = init(us)

    assert 0o700 == mode(us)
    private = ("node.key", "tls.key", "hotline.db", "hotline.toml")
    assert dict.fromkeys(private, 0o600) == {name: mode(us / name) for name in private}
    node = serving(us, url)
    try:
        node.start()
        side = [us / f"hotline.db{suffix}" for suffix in ("-wal", "-shm")]  # WAL mode, open
        wait_for(lambda: all(p.exists() for p in side), "the database's side files", timeout=30)
        assert [0o600, 0o600] == [mode(p) for p in side]
    finally:
        node.stop()


#: What is opened to others, how much, and the chmod the refusal must name.
OPENED = {
    "folder": ("", 0o755, "chmod 700"),
    "key for the group": ("node.key", 0o640, "chmod 600"),
    "database": ("hotline.db", 0o644, "chmod 600"),
    "database for the group": ("hotline.db", 0o660, "chmod 600"),
}


@pytest.mark.parametrize("case", OPENED)
def test_the_node_refuses_to_start_with_a_file_others_may_read(tmp_path: Path, case: str) -> None:
    us = tmp_path / "us"
    init(us)
    name, opened, fix = OPENED[case]
    target = (us / name if name else us).resolve()
    target.chmod(opened)
    before = {p.name: p.stat().st_mtime_ns for p in us.iterdir()}

    runs = [
        hotline("serve", "--dir", str(us)),  # refuses at once: it never serves
        hotline("peer", "list", "--dir", str(us)),  # any command that opens the node
    ]
    if name != "hotline.db":  # the card needs the key (in its folder), not the database
        runs.append(hotline("card", "--dir", str(us)))

    for run in runs:
        assert 1 == run.returncode, run.stdout
        error = run.stderr.decode()
        assert f"{target} is open to other users (mode {opened:04o})" in error
        assert f"hint: {fix} {target}" in error
    assert before == {p.name: p.stat().st_mtime_ns for p in us.iterdir()}  # nothing written
    target.chmod(0o700 if target.is_dir() else 0o600)  # as the hint says
    assert 0 == hotline("peer", "list", "--dir", str(us)).returncode


def test_the_node_refuses_to_start_with_its_tls_key_open(tmp_path: Path) -> None:
    """The TLS key is a key too: the node must not serve with it readable by others."""
    us = tmp_path / "us"
    node = serving(us, init(us))
    target = (us / "tls.key").resolve()
    target.chmod(0o644)
    try:
        with pytest.raises(RuntimeError, match="node exited early") as refused:
            node.start()
    finally:
        node.stop()
    assert f"{target} is open to other users (mode 0644)" in str(refused.value)


def test_side_files_left_open_are_made_private_when_the_database_opens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hotline.db"
    Database(f"sqlite:///{path}").dispose()  # a new database: made 0600 whatever the umask
    sides = [path.with_name(path.name + suffix) for suffix in SIDE_FILES]
    for side in sides:
        side.touch()
        side.chmod(0o644)  # left by an older version, say

    db = Database(f"sqlite:///{path}")
    try:
        assert [0o600] * 4 == [mode(p) for p in (path, *sides)]
        db.migrate()  # and the database works with them
    finally:
        db.dispose()


def test_a_saved_token_is_private_even_when_the_file_was_open(tmp_path: Path) -> None:
    with served_us(tmp_path, HostilePeer()) as us:
        token = us.directory / TOKEN_FILE
        token.write_text("{}", encoding="utf-8")
        token.chmod(0o644)

        logged_in = hotline("login", "--dir", str(us.directory), env=us.env)

        assert 0 == logged_in.returncode, logged_in.stderr
        assert 0o600 == mode(token)
        without_password = cli_env()  # the saved token is what logs in now
        assert 0 == hotline("inbox", "--dir", str(us.directory), env=without_password).returncode

        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_text("untouched", encoding="utf-8")
        token.unlink()
        token.symlink_to(elsewhere)

        through_a_link = hotline("login", "--dir", str(us.directory), env=us.env)

        assert 1 == through_a_link.returncode
        assert b"cannot write the token file" in through_a_link.stderr
        assert "untouched" == elsewhere.read_text(encoding="utf-8")
