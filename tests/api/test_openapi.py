"""The published OpenAPI describes every answer: a response model on every JSON route, the
one error shape on every route, and a document that validates as OpenAPI 3.1."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from openapi_spec_validator import OpenAPIV31SpecValidator

from hotline.app import create_app
from hotline.responses import ErrorResponse
from tests.api.test_policy import routes
from tests.conftest import MakeNode, Pair, token

#: Routes that answer something else than JSON, and say what in their ``responses``.
NOT_JSON = {
    ("GET", "/metrics"),
    ("GET", "/api/v1/calls/{call_id}/readouts.md"),
    ("GET", "/api/v1/export.kml"),  # files: KML (XML) and GeoJSON as downloads
    ("GET", "/api/v1/export.geojson"),
    ("GET", "/api/v1/attachments/{sha256}/content"),
    ("GET", "/federation/v1/attachments/{sha256}/chunks/{index}"),
    ("GET", "/api/v1/cases/{case_id}/tracks"),  # a case's track history: a GeoJSON file
}


@pytest.fixture
def app(make_node: MakeNode) -> Any:
    return create_app(make_node("us"), start_workers=False)


def published(app: Any) -> list[tuple[str, str, APIRoute]]:
    """Every route the OpenAPI document shows (an included router may hide its routes)."""
    paths = app.openapi()["paths"]
    return [
        (method, path, route)
        for path, route in routes(app.routes)
        for method in sorted(route.methods)
        if method.lower() in paths.get(path, {})
    ]


def test_only_console_pages_and_the_schema_itself_are_left_out(app: Any) -> None:
    left_out = {
        path
        for path, route in routes(app.routes)
        if not any(m.lower() in app.openapi()["paths"].get(path, {}) for m in route.methods)
    }
    assert {"/api/v1/openapi.json"} == {p for p in left_out if not p.startswith("/console")}
    assert any(p.startswith("/console") for p in left_out)


def test_every_json_route_has_a_response_model(app: Any) -> None:
    seen = published(app)
    assert len(seen) > 55
    missing = [
        (method, path)
        for method, path, route in seen
        if route.response_model is None and (method, path) not in NOT_JSON
    ]
    assert [] == missing
    other = {(m, p) for m, p, r in seen if r.response_class is not JSONResponse}
    assert NOT_JSON <= {(m, p) for m, p, _ in seen}
    for method, path in NOT_JSON:
        answer = app.openapi()["paths"][path][method.lower()]["responses"]["200"]
        assert "application/json" not in answer["content"], (method, path, other)


def test_every_route_declares_its_error_answers(app: Any) -> None:
    spec = app.openapi()
    undeclared = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            want = {"400", "403", "413"} if path.startswith("/federation") else {"401", "404"}
            if path == "/health":
                want = set()  # open, and answers as long as the process does
            schemas = {
                r["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                for r in errors.values()
            }
            if not want <= set(errors) or not schemas <= {"ErrorResponse", "DeliveryAnswer"}:
                undeclared.append((method, path, sorted(errors), sorted(schemas)))
    assert [] == undeclared


def test_the_schema_is_valid_openapi_3_1(app: Any) -> None:
    spec = app.openapi()
    assert spec["openapi"].startswith("3.1")
    errors = [e.message for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert [] == errors


def test_error_answers_have_the_documented_shape(pair: Pair) -> None:
    url = pair.servers["us"].url
    bearer = {"Authorization": f"Bearer {token(pair.us)}"}
    answers = {
        "unauthenticated": httpx.get(f"{url}/api/v1/status", timeout=30),
        "not_found": httpx.get(f"{url}/api/v1/calls/nothing", headers=bearer, timeout=30),
        "invalid": httpx.post(f"{url}/api/v1/messages", json={}, headers=bearer, timeout=30),
    }
    for code, answer in answers.items():
        assert code == ErrorResponse.model_validate(answer.json()).error.code
        assert {"error"} == set(answer.json())
        assert {"code", "message"} == set(answer.json()["error"]) - {"hint", "context"}


def test_answers_keep_the_services_keys_order_and_nulls(pair: Pair) -> None:
    url = pair.servers["us"].url
    bearer = {"Authorization": f"Bearer {token(pair.us)}"}
    with httpx.Client(base_url=url, headers=bearer, timeout=30) as client:
        sent = client.post("/api/v1/messages", json={"to": "ru", "text": "hello"})
        assert 201 == sent.status_code
        shown = client.get(f"/api/v1/messages/{sent.json()['id']}").json()
        status = client.get("/api/v1/status").json()
    expected = pair.us.show(sent.json()["id"])
    assert list(expected) == list(shown)
    assert None is shown["acked_at"] and "rendering" not in shown  # null kept, absent kept
    assert [*pair.us.line.status(), "user"] == list(status)


def test_the_api_doc_lists_every_error_code() -> None:
    from pathlib import Path

    from hotline import errors

    doc = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)` \| (?:\d+|any) \|", doc, flags=re.M))
    codes = {getattr(errors, n).code for n in errors.__all__} - {"error"}
    assert codes | {"method_not_allowed", "http"} == listed


#: Every route that reads without a parameter: each answer must fit its model (a warning
#: ``UndescribedResponse`` is an error in the tests).
READS = [
    "/api/v1/status",
    "/api/v1/card",
    "/api/v1/peers",
    "/api/v1/phrasebook",
    "/api/v1/inbox",
    "/api/v1/outbox",
    "/api/v1/conflicts",
    "/api/v1/volumes",
    "/api/v1/notices/schemas",
    "/api/v1/held?state=all",
    "/api/v1/principals",
    "/api/v1/calls",
    "/api/v1/calls/requests",
    "/api/v1/calls/histories",
    "/api/v1/watch",
    "/api/v1/watch/history",
    "/api/v1/tracks",
    "/api/v1/areas",
    "/api/v1/links",
    "/api/v1/alarms",
    "/api/v1/log",
    "/api/v1/log/forks",
]


def test_every_read_fits_its_model_after_some_traffic(pair: Pair) -> None:
    pair.us.auth.add_user("reader", "correct horse", ["officer", "auditor", "commander"])
    bearer = {"Authorization": f"Bearer {pair.us.auth.login('reader', 'correct horse')[0]}"}
    with httpx.Client(base_url=pair.servers["us"].url, headers=bearer, timeout=60) as client:
        sent = client.post("/api/v1/messages", json={"to": "ru", "text": "hello"})
        tested = client.post("/api/v1/links/ru/test")
        pair.flush()
        pair.ru.line.send(to="us", text="Привет", precedence="ROUTINE", user="duty")
        pair.flush()
        answers = {path: client.get(path) for path in READS}
        answers["exchange"] = client.post("/api/v1/log/checkpoint/exchange")
        answers["test"] = client.get(f"/api/v1/links/ru/tests/{tested.json()['id']}")
        answers["shown"] = client.get(f"/api/v1/messages/{sent.json()['id'][:8]}")
    assert (201, 201) == (sent.status_code, tested.status_code)
    assert {} == {path: a.status_code for path, a in answers.items() if a.status_code != 200}
    assert answers["exchange"].json()["ok"] is True
    assert ["Привет"] == [m["body"]["text"] for m in answers["/api/v1/inbox"].json()]
    assert sent.json()["id"] == answers["shown"].json()["id"]
