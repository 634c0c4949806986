"""Property-based fuzzing of both OpenAPI schemas with Schemathesis (issue 13).

Every operation of the operator API (authenticated, as an officer who is also commander
and admin) and of the federation API (as a stranger, unauthenticated) gets Schemathesis's
phases — the schema's examples, the coverage of each schema's edges, then generated
requests, valid ones and invalid ones — over real HTTP to a served node. The
node must never answer 5xx, and every answer must fit what the schema says of it: a
declared status, a declared content type, a body that validates against its schema.

Bounded for CI (:data:`EXAMPLES` generated cases per operation and mode, besides the
coverage phase's edge values: about 1,600 requests in all, under 30 s per backend on a
loaded 2-core machine) and derandomized, so a run sends the same inputs every time; raise
``HOTLINE_FUZZ_EXAMPLES`` for a longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

# Schemathesis's own pytest integration (``from_fixture(...).parametrize()``) fails on
# pytest 9 (it sets ``Function._nodeid``); its builder of one Hypothesis test per
# operation, with every phase, is used directly instead (pinned in constraints.txt).
from schemathesis.core.result import Ok
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline.app import create_app
from hotline.testing import HTTP_TIMEOUT_S, ServerThread
from tests.conftest import MakeNode

PASSWORD = "correct horse battery staple"
#: Examples per operation and generation mode (valid, invalid).
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "3"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Operations left out: logging out would revoke the token the rest of the run uses.
LEFT_OUT = {"POST /api/v1/logout"}


@dataclass
class Target:
    url: str
    token: str
    document: dict[str, Any]


def _session(token: str | None) -> requests.Session:
    """The HTTP session of the fuzzer (the one place to add TLS client settings)."""
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture
def target(make_node: MakeNode) -> Iterator[Target]:
    us, ru = make_node("us"), make_node("ru")
    us.add_peer(ru.identity.card().wire())
    us.auth.add_user("duty", PASSWORD, ["officer", "commander", "admin"])
    token = us.auth.login("duty", PASSWORD)[0]
    app = create_app(us, start_workers=False)
    with ServerThread(app) as server, _session(token) as session:
        answer = session.get(server.url + "/api/v1/openapi.json", timeout=HTTP_TIMEOUT_S)
        assert 200 == answer.status_code
        yield Target(server.url, token, answer.json())


def _part(document: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The document with only the paths under ``prefixes`` (and without :data:`LEFT_OUT`)."""
    paths = {}
    for path, item in document["paths"].items():
        kept = {m: op for m, op in item.items() if f"{m.upper()} {path}" not in LEFT_OUT}
        if path.startswith(prefixes) and kept:
            paths[path] = kept
    return document | {"paths": paths}


#: Schemathesis's phases as they are, but the coverage phase does not try every other HTTP
#: method on every path (``test_hygiene.py`` proves the 405s and their ``Allow``).
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz(document: dict[str, Any], url: str, token: str | None) -> tuple[int, list[str]]:
    """Every operation of ``document`` through Schemathesis's phases (its examples, the
    coverage of each schema's edges, then :data:`EXAMPLES` generated cases, valid and
    invalid): the number of requests sent, and the failures (every operation is run)."""
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    sent = 0
    failures: list[str] = []

    with _session(token) as session:

        def check(case: schemathesis.Case) -> None:
            nonlocal sent
            sent += 1
            response = case.call(base_url=url, session=session, timeout=HTTP_TIMEOUT_S)
            case.validate_response(response, checks=CHECKS)

        for result in get_all_tests(schema=schema, test_func=check, settings=FUZZ, given_kwargs={}):
            if not isinstance(result, Ok):
                failures.append(f"schema: {result.err()}")
                continue
            operation, test = result.ok()
            try:
                test()
            except Exception as exc:  # a check failed: keep going, report them all
                failures.append(f"{operation.label}: {exc}"[:3000])
    return sent, failures


def test_the_operator_api_never_fails_and_answers_as_documented(target: Target) -> None:
    document = _part(target.document, ("/api/v1", "/health", "/metrics"))
    assert len(document["paths"]) > 40
    sent, failures = fuzz(document, target.url, target.token)
    assert [] == failures
    assert sent > 3 * len(document["paths"])


def test_the_federation_api_never_fails_and_answers_as_documented(target: Target) -> None:
    document = _part(target.document, ("/federation/v1",))
    assert {"/federation/v1/envelopes", "/federation/v1/checkpoints"} <= set(document["paths"])
    sent, failures = fuzz(document, target.url, None)
    assert [] == failures
    assert sent > 3 * len(document["paths"])
