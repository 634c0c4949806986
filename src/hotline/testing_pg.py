"""PostgreSQL clusters of a test's own: a primary and its streaming standby, made with the
installed server binaries (``initdb``, ``pg_basebackup -R``), crashed with SIGKILL and
promoted: the standby drill (tests/drills/test_standby.py, benchmarks/bench_standby.py).

Like :mod:`hotline.testing`, shipped with the package and never imported by a running
node. As root, initdb and postgres refuse to run: every command then runs as the
``postgres`` user (``runuser``), in a folder given to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.testing import free_port, wait_for


def postgres_bin_dir() -> Path | None:
    """The folder of the installed PostgreSQL server binaries (``initdb``, ``postgres``,
    ``pg_ctl``, ``pg_basebackup``), newest version first; None when the server is not
    installed (a client-only machine)."""
    wanted = os.environ.get("HOTLINE_PG_BIN")
    candidates = [Path(wanted)] if wanted else []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = [p for p in root.iterdir() if p.name.isdigit()]
        candidates += [v / "bin" for v in sorted(versions, key=lambda p: -int(p.name))]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "postgres", "pg_basebackup")):
            return folder
    return None


@dataclass
class PgCluster:
    """A PostgreSQL cluster of a test's own: its data folder, port and socket folder.

    initdb and postgres refuse to run as root: as root every command runs as the
    ``postgres`` user (``runuser``) and the cluster's folder is given to it. Stop it with
    :meth:`stop` (immediate: a drill does not wait for checkpoints) or :meth:`kill`
    (SIGKILL of the postmaster, a crash); :meth:`leftovers` finds any of its processes
    still alive, for a cleanup that leaves none.
    """

    bin_dir: Path
    data: Path
    port: int
    socket_dir: Path

    @classmethod
    def init(cls, bin_dir: Path, root: Path, name: str, conf: dict[str, str]) -> PgCluster:
        """initdb a cluster in ``root/name`` (trust auth on loopback, replication allowed
        from 127.0.0.1) with ``conf`` appended to its postgresql.conf."""
        cluster = cls(bin_dir, root / name, free_port(), root / f"{name}.sock")
        cluster.socket_dir.mkdir()
        _give_to_postgres(cluster.socket_dir)
        cluster.run(
            "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-instructions",
        )  # fmt: skip
        cluster.configure(conf)
        return cluster

    def standby_of(self, root: Path, name: str, application_name: str) -> PgCluster:
        """A streaming standby of this (running) cluster, by ``pg_basebackup -R``: it writes
        ``standby.signal`` and a ``primary_conninfo``, given here an ``application_name``
        (the name ``synchronous_standby_names`` waits for)."""
        standby = PgCluster(self.bin_dir, root / name, free_port(), root / f"{name}.sock")
        standby.socket_dir.mkdir()
        _give_to_postgres(standby.socket_dir)
        conninfo = (
            f"host=127.0.0.1 port={self.port} user=postgres application_name={application_name}"
        )
        standby.run(
            "pg_basebackup", "-D", str(standby.data), "-d", conninfo, "-R",
            "-X", "stream", "--checkpoint=fast", "--no-password",
        )  # fmt: skip
        standby.configure(
            {
                "port": str(standby.port),
                "unix_socket_directories": f"'{standby.socket_dir}'",
                "primary_conninfo": f"'{conninfo}'",
                # While it is a standby this is ignored; once promoted it is the new primary,
                # which has no standby of its own yet: it must not wait for one.
                "synchronous_standby_names": "''",
            }
        )
        return standby

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def configure(self, conf: dict[str, str]) -> None:
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        auto = self.data / "postgresql.auto.conf"
        self.run("sh", "-c", f"cat >> {auto}", stdin=lines)

    def start(self, timeout: float = 120.0) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"),
            "-o", f"-p {self.port} -k {self.socket_dir}", "-w", "-t", str(int(timeout)),
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        """``pg_ctl stop -m immediate`` if it runs, then SIGKILL whatever of it is left."""
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        for pid in self.leftovers():
            with suppress(OSError):
                os.kill(pid, 9)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill(self) -> int:
        """SIGKILL the postmaster (a crash: no shutdown, no checkpoint); return its pid.
        Its backends notice and end by themselves; :meth:`leftovers` lists any not yet."""
        pid = self.postmaster_pid()
        os.kill(pid, 9)
        return pid

    def promote(self, timeout: float = 120.0) -> None:
        """End recovery: the standby becomes a primary (``pg_ctl promote -w``)."""
        self.run("pg_ctl", "-D", str(self.data), "-w", "-t", str(int(timeout)), "promote")

    def leftovers(self) -> list[int]:
        """Every process running in this cluster's data folder (postgres processes keep it
        as their working directory): what must be gone once the cluster is stopped."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if Path(os.readlink(entry / "cwd")) == self.data:
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def sql(self, query: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(query.encode())  # queries are the test's own, never input
            return cursor.fetchall() if cursor.description else []

    def run(
        self, tool: str, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool (or ``sh``) as the cluster's owner."""
        path = tool if tool == "sh" else str(self.bin_dir / tool)
        command = [path, *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=300, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done


#: The settings that make a primary wait for its standby (the production setup, see
#: docs/operator-guide.md): every commit returns once the standby has the WAL on its disk.
SYNC_STANDBY_NAME = "hotline_standby"


def primary_with_standby(
    bin_dir: Path, root: Path, *, synchronous: bool = True
) -> tuple[PgCluster, PgCluster]:
    """Start a primary and a streaming standby of it under ``root``; with ``synchronous``
    the primary waits for the standby at every commit (``synchronous_commit = on``, the
    standby named in ``synchronous_standby_names``), and this returns once the standby
    streams as the synchronous one. The caller stops both (:meth:`PgCluster.stop`)."""
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "wal_level": "replica",
        "max_wal_senders": "5",
        "wal_keep_size": "'256MB'",
        "fsync": "on",  # a durability drill: every commit on disk, on both machines
        "synchronous_commit": "on",
        "synchronous_standby_names": f"'FIRST 1 ({SYNC_STANDBY_NAME})'" if synchronous else "''",
        "shared_buffers": "'32MB'",
        "max_connections": "60",
    }
    primary = PgCluster.init(bin_dir, root, "primary", conf)
    clusters = [primary]
    try:
        primary.start()
        standby = primary.standby_of(root, "standby", SYNC_STANDBY_NAME)
        clusters.append(standby)
        standby.start()
        wanted = "sync" if synchronous else "async"
        wait_for(
            lambda: primary.sql("SELECT sync_state FROM pg_stat_replication") == [(wanted,)],
            f"the standby to stream as {wanted}",
            timeout=120,
        )
    except BaseException:
        for cluster in clusters:
            cluster.stop()
        raise
    return primary, standby


def pg_cluster_root() -> Path:
    """A fresh folder for clusters, reachable by the ``postgres`` user when running as root
    (pytest's own tmp folders are private to root); remove it with ``shutil.rmtree``."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    _give_to_postgres(root)
    return root


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(0o700)
