"""Which listener serves what, over what: plain HTTP only by explicit, loopback choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.app import listeners
from hotline.errors import ConfigError
from hotline.node import Node, init_node
from hotline.testing import free_port


def _node(folder: Path, **settings: object) -> Node:
    made = init_node(folder, party="us", name_en="US", **settings)  # type: ignore[arg-type]
    made.db.dispose()
    return made


def test_a_node_without_endpoints_still_serves_its_federation_side_on_mutual_tls(
    tmp_path: Path,
) -> None:
    """No endpoints is not "every endpoint is http://": the listener stays on mTLS."""
    node = _node(tmp_path / "us", settings={"operator_listen": f"127.0.0.1:{free_port()}"})
    bare = Node(node.settings.replace(endpoints=(), federation_listen="127.0.0.1:18443"))
    try:
        sides = {name: context for name, _h, _p, _app, context in listeners(bare)}
        assert sides["federation"] is not None and sides["operator"] is not None
    finally:
        bare.db.dispose()


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.0.2.10"])
def test_plain_http_is_refused_on_a_federation_address_that_is_not_loopback(
    tmp_path: Path, bind: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    node = _node(
        tmp_path / "us",
        endpoints=[url],
        allow_plain_http=True,
        settings={"operator_listen": f"127.0.0.1:{free_port()}"},
    )
    exposed = Node(node.settings.replace(federation_listen=f"{bind}:{free_port()}"))
    try:
        with pytest.raises(ConfigError, match="plain HTTP"):
            listeners(exposed)
        loopback = Node(node.settings)  # the endpoint's own loopback address: allowed
        try:
            sides = {name: context for name, _h, _p, _app, context in listeners(loopback)}
            assert sides["federation"] is None  # plain, as explicitly allowed
        finally:
            loopback.db.dispose()
    finally:
        exposed.db.dispose()
