"""The operator HTTP API (``/api/v1``): one module per resource, dependencies in ``deps``.

``auth`` (login, logout) · ``node`` (status, card, peers, phrasebook) · ``messages`` ·
``notices`` (and declared volumes, conflicts) · ``held`` (FLASH two-person rule) ·
``calls`` (requests, held calls, readouts) · ``watch`` (watch levels) · ``tracks`` (the
live picture) · ``links`` (link tests, alarms, ``/metrics``) · ``evidence`` (the log).
Response models are beside their routes; shared ones and the error shape in ``schemas``.
"""
