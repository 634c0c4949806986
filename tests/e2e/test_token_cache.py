"""Two ``hotline serve`` processes of one node on one database, each caching the tokens it
has validated: a logout through one is refused at once by the other, and so is the token
of an operator disabled from a third process (the CLI's, here the test's own)."""

from __future__ import annotations

from hotline.clock import SystemClock
from hotline.services.auth import Auth
from hotline.storage.db import Database
from hotline.testing import NodeProcess, api, free_port, running
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login


def test_a_session_ended_anywhere_ends_on_every_process_at_once(processes: Processes) -> None:
    port, operator_port = free_port(), free_port()
    second = NodeProcess(
        processes.us.directory,
        f"https://127.0.0.1:{operator_port}",
        processes.us.env,
        args=(
            "--federation-listen",
            f"127.0.0.1:{port}",
            "--operator-listen",
            f"127.0.0.1:{operator_port}",
        ),
    )
    with running(processes.us, second):
        first, kept = login(processes.us.url, "us"), login(second.url, "us")
        for process in (processes.us, second):  # each process validates (and keeps) both
            for token in (first, kept):
                with api(process, token) as client:
                    assert 200 == client.get("/api/v1/outbox").status_code

        with api(processes.us, first) as client:
            assert client.post("/api/v1/logout").status_code in (200, 204)
        with api(second, first) as client:
            assert 401 == client.get("/api/v1/outbox").status_code
        with api(second, kept) as client:
            assert 200 == client.get("/api/v1/outbox").status_code

        db = Database(processes.db_urls["us"])
        try:
            Auth(db, SystemClock(), 60).set_disabled("officer", True)
        finally:
            db.dispose()
        for process in (processes.us, second):
            with api(process, kept) as client:
                answer = client.get("/api/v1/outbox")
                assert 401 == answer.status_code, answer.text
