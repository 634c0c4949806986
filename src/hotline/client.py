"""A small client for a node's operator API, used by the CLI and the demo.

Credentials: a token saved by ``hotline login`` (``DIR/.cli-token``, mode 0600), or
``--user`` / ``HOTLINE_USER`` with the password in ``HOTLINE_PASSWORD``, exchanged for a
token on each run. A node that cannot be reached is reported plainly, with its URL.

HTTPX is imported when a client is made, not with this module: ``hotline --help`` does
not pay for it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hotline.errors import ApiError as ApiError  # re-exported: callers catch it from here
from hotline.errors import AuthError, ConfigError, Unreachable

TOKEN_FILE = ".cli-token"


class NodeClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        import httpx

        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach the node at {self.base_url}: {exc}",
                hint="is it running? start it with `hotline serve --dir DIR`",
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        return body

    def login(self, user: str, password: str) -> str:
        answer = self.request("POST", "/api/v1/login", json={"user": user, "password": password})
        self.token = str(answer["token"])
        return self.token

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body or {})


def save_token(directory: Path, base_url: str, user: str, token: str) -> Path:
    """Keep a token for later commands, readable by its owner only: mode 0600 whatever
    the umask, and made so before the token is written if the file existed more open."""
    path = directory / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:  # a symbolic link there, say: never written through
        raise ConfigError(f"cannot write the token file {path}: {exc.strerror}") from exc
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"url": base_url, "user": user, "token": token}, handle)
    return path


def connect(directory: Path, base_url: str, user: str | None, password: str | None) -> NodeClient:
    """A client logged in as ``user`` (password) or with the token ``hotline login`` saved."""
    client = NodeClient(base_url)
    if user and password:
        client.login(user, password)
        return client
    saved = directory / TOKEN_FILE
    if saved.exists():
        data = json.loads(saved.read_text(encoding="utf-8"))
        if not user or data.get("user") == user:
            client.token = data["token"]
            return client
    client.close()
    raise AuthError(
        "no credentials for the node",
        hint="set HOTLINE_USER and HOTLINE_PASSWORD, or run `hotline login` first",
    )
