"""Two real node processes: when one stops, the other's link tests fail and raise an alarm;
when it comes back, the alarm clears itself with the outage's length."""

from __future__ import annotations

import time
from typing import Any

import httpx

from hotline.testing import verify_for, wait_for
from tests.e2e.conftest import PASSWORDS, Processes


def token(url: str, party: str) -> str:
    return str(
        httpx.post(
            url + "/api/v1/login",
            json={"user": "officer", "password": PASSWORDS[party]},
            timeout=30,
            verify=verify_for(url),
        ).json()["token"]
    )


def api_get(url: str, path: str, party: str) -> Any:
    bearer = token(url, party)
    response = httpx.get(
        url + path,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=30,
        verify=verify_for(url),
    )
    response.raise_for_status()
    return response.json()


def link_alarms(procs: Processes) -> list[dict[str, Any]]:
    alarms = api_get(procs.us.url, "/api/v1/alarms", "us")
    return [a for a in alarms if (a["kind"], a["subject"]) == ("link_down", "ru")]


def test_stopping_a_node_raises_a_link_alarm_and_restarting_clears_it(
    production_backend: None,
    processes: Processes,
) -> None:
    for proc in (processes.us, processes.ru):
        # down as soon as a test fails (3 s), as before link_down_after_s (default 60 s)
        proc.env["HOTLINE_LINK_DOWN_AFTER_S"] = "3"
    processes.us.start()
    processes.ru.start()
    wait_for(
        lambda: api_get(processes.us.url, "/api/v1/links?peer=ru", "us")[0]["state"] == "up",
        "a first passed link test",
        timeout=60,
    )
    # (a test sent while the peer was still starting may have raised and cleared one)
    assert [] == [a for a in link_alarms(processes) if a["state"] == "open"]
    before = {a["id"] for a in link_alarms(processes)}

    def new_alarms() -> list[dict[str, Any]]:
        return [a for a in link_alarms(processes) if a["id"] not in before]

    processes.ru.stop()
    raised = wait_for(new_alarms, "the link_down alarm", timeout=60)
    assert [("open", "ru")] == [(a["state"], a["subject"]) for a in raised]

    time.sleep(4)  # the outage goes on: more tests fail, still one alarm
    assert 1 == len(new_alarms())

    processes.ru.start()
    cleared = wait_for(
        lambda: [a for a in new_alarms() if a["state"] == "cleared"], "recovery", timeout=60
    )
    assert "auto" == cleared[0]["cleared_by"]
    assert cleared[0]["duration_s"] >= 4  # at least the 4 s slept above
    report = api_get(processes.us.url, "/api/v1/links?peer=ru", "us")[0]
    # What cleared the alarm put the link up again at once (no waiting for the next
    # scheduled test).
    assert ("up", True) == (report["state"], report["failed"] >= 1)
    # (the alarm counts from the first failure of any signal, a failed delivery perhaps
    # a moment before the first failed test the report's longest outage counts from)
    assert report["longest_outage_s"] >= 4
    metrics = httpx.get(
        processes.us.url + "/metrics",
        headers={"Authorization": f"Bearer {token(processes.us.url, 'us')}"},
        timeout=30,
        verify=processes.us.verify,
    ).text
    assert 'hotline_link_up{peer="ru"} 1.0' in metrics.splitlines()
