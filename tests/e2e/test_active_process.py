"""Two processes serving one node: one runs the background work, the other only answers
HTTP; messages queued through either are delivered once; when the active process is
killed, the other takes over."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import select

from hotline.storage.db import Database
from hotline.storage.tables.core import events, log_entries, messages
from hotline.testing import HTTP_TIMEOUT_S, NodeProcess, free_port, running, verify_for, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login


def health(process: NodeProcess) -> str:
    return str(
        httpx.get(process.url + "/health", timeout=HTTP_TIMEOUT_S, verify=process.verify).json()[
            "process"
        ]
    )


def send_and_wait(url: str, token: str, texts: list[str], timeout: float = 60) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    for text in texts:
        answer = httpx.post(
            url + "/api/v1/messages",
            json={"to": "ru", "text": text},
            headers=headers,
            timeout=HTTP_TIMEOUT_S,
            verify=verify_for(url),
        )
        answer.raise_for_status()
        ids.append(answer.json()["id"])

    def all_delivered() -> bool:
        states = {
            httpx.get(
                url + f"/api/v1/messages/{i}",
                headers=headers,
                timeout=HTTP_TIMEOUT_S,
                verify=verify_for(url),
            ).json()["state"]
            for i in ids
        }
        return states == {"delivered"}

    wait_for(all_delivered, f"{len(ids)} messages delivered", timeout=timeout)
    return ids


def test_one_process_is_active_the_other_takes_over_and_nothing_is_recorded_twice(
    processes: Processes,
) -> None:
    port, operator_port = free_port(), free_port()
    spare = NodeProcess(
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
    with running(processes.ru, processes.us):
        assert "active" == health(processes.us)
        with running(spare):
            assert "standby" == health(spare)
            token = login(spare.url, "us")
            first = send_and_wait(spare.url, token, [f"via the standby {i}" for i in range(10)])

            processes.us.kill()  # the active process dies: no shutdown handler runs
            wait_for(lambda: health(spare) == "active", "the standby to take over", timeout=60)
            second = send_and_wait(spare.url, token, [f"after the failover {i}" for i in range(10)])

    db = Database(processes.db_urls["us"])
    try:
        with db.read() as conn:
            delivered = Counter(
                conn.execute(select(events.c.message_id).where(events.c.kind == "delivered"))
                .scalars()
                .all()
            )
            receipts = Counter(
                conn.execute(select(log_entries.c.ref).where(log_entries.c.kind == "receipt_in"))
                .scalars()
                .all()
            )
            texts = (
                conn.execute(
                    select(messages.c.id).where(
                        messages.c.direction == "out", messages.c.type == "text"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        db.dispose()
    assert sorted(first + second) == sorted(texts)
    assert {1} == {delivered[i] for i in first + second}  # one courier per channel
    assert {1} == {receipts[i] for i in first + second}  # each receipt logged once
