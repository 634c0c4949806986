"""What every JSON answer of the HTTP edges is built on: the response base, the one error
shape and a router that declares both.

Every JSON answer of ``/api/v1`` and ``/federation/v1`` is declared by a pydantic model so
that ``/api/v1/openapi.json`` describes it (the operator API's models are in
``api/schemas.py``, the federation's beside its routes). The models describe the JSON the
services already build; they never reshape it:

- routes serialise with ``response_model_exclude_unset=True`` (see :class:`TypedRouter`),
  so a key the service leaves out stays out and a ``null`` stays ``null``;
- models are open (``extra="allow"``): a key a service adds later still goes over the
  wire, and a client must ignore keys it does not know;
- numbers that may be whole or not are ``int | float``, so ``3`` never becomes ``3.0``;
- strict: nothing is coerced, and keys keep the order the service built them in;
- signed content (envelopes, receipts, cards, checkpoint notes) is passed through
  untouched; what travels as signed bytes (``/federation/v1/envelopes``) is returned raw
  and only described.

Every error answer has one shape, :class:`ErrorResponse`; ``docs/api.md`` lists the codes.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

#: A JSON object passed through as it is (signed content, GeoJSON, a notice body …).
JsonObject = dict[str, Any]
Number = int | float

#: The largest number a row id can be: numeric ids are ``INTEGER`` columns, 32 bits on
#: PostgreSQL (SQLite's 64 bits hold more; no node will count that far).
MAX_ROW_ID = 2**31 - 1
#: A numeric id in a path (an alarm, a translation, a watch-level change): a larger number
#: is refused as input (422 ``invalid``) before it reaches the database, which would
#: refuse to compare it (PostgreSQL) or even to bind it (SQLite, beyond 64 bits).
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID)]


class UndescribedResponse(UserWarning):
    """A service answered something its response model does not describe (a bug in the
    model): the answer still goes out as the service built it, and this is warned."""


class Out(BaseModel):
    """Base of every response model: open to keys added later, never reshaped.

    Strict, so nothing is coerced (``"3"`` stays a string); an answer the model does not
    describe is sent as it is, with an :class:`UndescribedResponse` warning (an error in
    the tests), rather than turned into a 500.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    #: The keys in the order the service built them: the answer keeps that order.
    _order: tuple[str, ...] = PrivateAttr(default=())
    #: An answer the model does not describe, kept to be sent exactly as it was built.
    _undescribed: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _as_built(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            out = handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            warnings.warn(f"{cls.__name__}: {exc}", UndescribedResponse, stacklevel=2)
            out = cls.model_construct(**data)
            out._undescribed = data
        if isinstance(data, dict):
            out._order = tuple(data)
        return out

    @model_serializer(mode="wrap")
    def _in_built_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        if self._undescribed is not None:
            return self._undescribed
        out = handler(self)
        if not self._order or not isinstance(out, dict):
            return out
        return {key: out[key] for key in self._order if key in out} | out


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine readable: match on this, never the wording")
    message: str = Field(description="for a person: what was wrong, naming the thing")
    hint: str | None = Field(None, description="what to do about it (absent when none)")
    context: dict[str, Any] | None = Field(
        None, description="the values concerned, e.g. the field (absent when none)"
    )


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


#: Where the error shape sits in the OpenAPI document (see :func:`with_error_schemas`).
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _error(description: str) -> dict[str, Any]:
    # A plain schema reference, not ``model=``: FastAPI builds a validator for every model
    # a route declares, in every app, on the app's first request; 11 error models on each
    # of 60 routes cost every new app (each test's nodes) about 0.3 s of CPU. The schema
    # itself is put in the document's components by ``with_error_schemas``.
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def with_error_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Add :class:`ErrorResponse` (and what it uses) to an OpenAPI document's components."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in generated.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("ErrorResponse", generated)
    return document


#: Error answers any route may give: declared on every router (``responses=ERRORS``).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("malformed request (`malformed`, `wire`, `clock_skew` …)"),
    401: _error("no or bad bearer token (`unauthenticated`)"),
    403: _error("the user's roles do not allow this (`forbidden`)"),
    404: _error("no such message, peer, call … (`not_found`)"),
    409: _error("the request contradicts stored state (`conflict` …)"),
    413: _error("request body over the limit (`too_large`)"),
    422: _error("input that does not fit its schema (`invalid`)"),
    429: _error("too many wrong passwords from this address (`too_many_attempts`) …"),
    500: _error("the node is misconfigured (`config`) or failed unexpectedly (`internal`)"),
    502: _error("a peer refused the request (`peer_refused`)"),
    503: _error("a peer could not be reached (`unreachable`); logins at their bound (`busy`)"),
}


def text_answer(media_type: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers ``media_type`` but errs in JSON as the rest."""
    return {200: {"content": {media_type: {}}}, **ERRORS}


class TypedRouter(APIRouter):
    """An APIRouter whose routes leave out what the service left out (see the module
    docstring) and declare the error answers (:data:`ERRORS`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("responses", ERRORS)
        super().__init__(**kwargs)

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        # Rendered by json.dumps as before the routes had models, not by pydantic's own
        # JSON writer (FastAPI's default for a route with a model), which writes some
        # numbers differently (1.5e-07 as 1.5e-7) and NaN as null.
        kwargs.setdefault("response_class", JSONResponse)
        super().add_api_route(path, endpoint, **kwargs)


def file_response(row: dict[str, Any], data: bytes) -> Response:
    """The bytes as a download: the checked type, never sniffed or run by a browser."""
    name = row["name"].encode("ascii", "replace").decode("ascii").replace('"', "'")
    return Response(
        data,
        media_type=row["content_type"],
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "x-content-type-options": "nosniff",
            "content-security-policy": "sandbox",
        },
    )
