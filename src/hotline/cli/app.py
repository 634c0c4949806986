"""The ``hotline`` command (Typer + Rich): the application and its command groups.

Commands that set a node up (``init``, ``card``, ``peer``, ``user``) work on its folder
directly; commands that act on the line (``send``, ``inbox``, ``ack`` …) talk to the
running node over its operator API. Every command picks its node with ``--dir`` (or
``HOTLINE_DIR``); every listing takes ``--json`` and then prints JSON only.

One module per command group; this one only registers them, in the order ``hotline
--help`` lists them. No module imported here loads NumPy, SciPy, Shapely or pyproj, nor
FastAPI, uvicorn or the database: those load in the bodies of the commands that need them.
"""

from __future__ import annotations

import typer

from hotline.cli import evidence, line, links, node, picture
from hotline.cli.attachments import attachment_app
from hotline.cli.calls import calls_app, principal_app
from hotline.cli.cases import case_app
from hotline.cli.conflicts import conflicts_app
from hotline.cli.escalation import contacts_app, escalation_app
from hotline.cli.feeds import feed_app
from hotline.cli.held import held_app
from hotline.cli.keys import key_app
from hotline.cli.notices import notice_app
from hotline.cli.peers import peer_app
from hotline.cli.readouts import readout_app
from hotline.cli.safety import conformance_app, safety_app
from hotline.cli.users import user_app
from hotline.cli.watch import watch_app

app = typer.Typer(
    name="hotline",
    help="Hotline: a signed, durable, bilingual line between parties that do not trust each other.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command("areas")(picture.areas_command)
app.command("verify")(evidence.verify_command)
for name, command in (
    ("init", node.init),
    ("serve", node.serve),
    ("card", node.card),
    ("login", node.login),
    ("send", line.send),
    ("translate", line.translate),
    ("certify", line.certify),
    ("alarms", links.alarms),
    ("clear-alarm", links.clear_alarm),
    ("inbox", line.inbox),
    ("outbox", line.outbox),
    ("show", line.show),
    ("ack", line.ack),
    ("status", line.status),
    ("demo", node.demo),
):
    app.command(name)(command)

for group, name in (
    (peer_app, "peer"),
    (user_app, "user"),
    (notice_app, "notice"),
    (case_app, "case"),
    (links.link_app, "link"),
    (conflicts_app, "conflicts"),
    (evidence.evidence_app, "evidence"),
    (principal_app, "principal"),
    (calls_app, "calls"),
    (readout_app, "readout"),
    (watch_app, "watch"),
    (picture.tracks_app, "tracks"),
    (picture.picture_app, "picture"),
    (feed_app, "feed"),
    (held_app, "held"),
    (safety_app, "safety"),
    (conformance_app, "conformance"),
    (escalation_app, "escalation"),
    (contacts_app, "contacts"),
    (node.tls_app, "tls"),
    (key_app, "key"),
    (attachment_app, "attachment"),
):
    app.add_typer(group, name=name)
