"""A small client for a node's operator API, used by the CLI and the demo.

Credentials: a token saved by ``hotline login`` (``DIR/.cli-token``, mode 0600), or
``--user`` / ``HOTLINE_USER`` with the password in ``HOTLINE_PASSWORD``, exchanged for a
token on each run. A node that cannot be reached is reported plainly, with its URL.

The node's operator listener is on TLS: a client of a node trusts exactly the node's
operator certificate, read from the node's folder (``operator_cert_file``, else
``tls.crt``), or the certificate file given with ``--ca-file`` / ``HOTLINE_CA_FILE``
(then the host name is checked too). See :func:`operator_target`.

HTTPX is imported when a client is made, not with this module: ``hotline --help`` does
not pay for it.
"""

from __future__ import annotations

import json
import os
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.errors import ApiError as ApiError  # re-exported: callers catch it from here
from hotline.errors import AuthError, ConfigError, Unreachable

if TYPE_CHECKING:
    import httpx

    from hotline.config import NodeSettings

TOKEN_FILE = ".cli-token"
#: A certificate file to trust for the node's operator side, instead of its own.
CA_FILE_ENV = "HOTLINE_CA_FILE"

Verify = ssl.SSLContext | bool


def operator_url(settings: NodeSettings) -> str:
    """The operator listener's URL, from ``operator_listen`` (a wildcard is loopback)."""
    from hotline.config import split_listen

    host, port = split_listen(settings.operator_listen)
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def operator_target(
    settings: NodeSettings, url: str | None = None, ca_file: str | Path | None = None
) -> tuple[str, Verify]:
    """Where the node's operator side answers, and what to trust there.

    Default: ``operator_listen`` and exactly the node's operator certificate. ``url`` names
    another address; ``ca_file`` another certificate (a CA: the host name is checked).
    """
    from hotline.protocol import tls

    base = url or operator_url(settings)
    if base.lower().startswith("http://"):
        return base, False
    ca = ca_file or os.environ.get(CA_FILE_ENV)
    if ca:
        return base, tls.trust_context(Path(ca), check_hostname=True)
    own = settings.operator_cert_file or tls.cert_path(settings.directory)
    return base, tls.trust_context(Path(own))


class NodeClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 15.0,
        verify: Verify = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        import httpx

        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=verify)

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

    def text(self, path: str) -> str:
        """GET ``path`` as text (e.g. Markdown), not as JSON."""
        return self._get_raw(path).text

    def _get_raw(self, path: str) -> httpx.Response:
        """GET ``path``, its answer as it came; an error answer raised as :class:`ApiError`."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self._http.get(path, headers=headers)
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach the node at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text[:200]}
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        return response

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=body or {})

    def upload(self, data: bytes, name: str, content_type: str | None) -> Any:
        """``POST /api/v1/attachments``: the file as the raw body."""
        headers = {"content-type": content_type or "application/octet-stream"}
        return self.request(
            "POST", "/api/v1/attachments", params={"name": name}, content=data, headers=headers
        )

    def download(self, path: str) -> bytes:
        """GET ``path`` as bytes (an attachment's content)."""
        return self._get_raw(path).content


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


def connect(
    directory: Path,
    base_url: str,
    user: str | None,
    password: str | None,
    verify: Verify = True,
) -> NodeClient:
    """A client logged in as ``user`` (password) or with the token ``hotline login`` saved."""
    client = NodeClient(base_url, verify=verify)
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
