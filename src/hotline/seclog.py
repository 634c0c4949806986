"""The security log: one structured record per security-relevant event.

Every part of the node that accepts or refuses a person or a peer calls
:func:`event` with a stable event name and its facts (user, source address, code …);
nothing else. How the records are written (JSON lines, where to) is decided here
and documented in ``docs/operator-guide.md``.

Event names in use: ``login_ok``, ``login_failed``, ``login_paused``, ``logout``,
``token_revoked``, ``auth_refused`` (401), ``forbidden`` (403), ``user_added``,
``user_disabled``, ``user_enabled``, ``password_changed``, ``peer_pinned``,
``peer_key_changed``, ``peer_refused`` (a peer's request refused, with its code),
``tls_refused``.
"""

from __future__ import annotations

import logging
from typing import Any

_logger = logging.getLogger("hotline.security")


def event(name: str, **facts: Any) -> None:
    """Record one security event ``name`` with its ``facts`` (no secrets, ever)."""
    _logger.warning("%s %s", name, " ".join(f"{k}={v!r}" for k, v in sorted(facts.items())))
