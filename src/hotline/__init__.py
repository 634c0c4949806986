"""Hotline: a risk-reduction and deconfliction line between parties that do not trust each other.

Each party runs its own node; nodes exchange signed, durable, bilingual messages. See
``docs/architecture.md`` for the layers and ``docs/protocol.md`` for the wire.
"""

__version__ = "0.1.0"
