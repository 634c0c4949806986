"""Date-time groups: ``211430Z NOV 26`` (Russian ``211430Z НОЯ 26``).

A DTG is day, hour and minute in UTC (``DDHHMM``), the zone letter ``Z``, the month's
three-letter abbreviation and the two-digit year. Seconds are dropped (not rounded):
a message sent at 14:30:59 reads 1430, as a watch officer's clock would.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.errors import ValidationError
from hotline.render.i18n import N_, gettext

MONTHS = (
    N_("JAN"),
    N_("FEB"),
    N_("MAR"),
    N_("APR"),
    N_("MAY"),
    N_("JUN"),
    N_("JUL"),
    N_("AUG"),
    N_("SEP"),
    N_("OCT"),
    N_("NOV"),
    N_("DEC"),
)
"""Month abbreviations as catalog ids; Russian: ЯНВ ФЕВ МАР АПР МАЙ ИЮН ИЮЛ АВГ СЕН ОКТ НОЯ ДЕК."""


def format_dtg(when: datetime, lang: str) -> str:
    """The date-time group of an aware ``when``, in ``lang``.

    >>> from datetime import datetime, UTC
    >>> format_dtg(datetime(2026, 11, 21, 14, 30, tzinfo=UTC), "en")
    '211430Z NOV 26'
    """
    if when.tzinfo is None:
        raise ValidationError("a date-time group needs a timezone-aware time (UTC)")
    utc = when.astimezone(UTC)
    month = gettext(lang, MONTHS[utc.month - 1])
    return f"{utc:%d%H%M}Z {month} {utc:%y}"
