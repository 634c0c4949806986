"""Labels in English and Russian, read from gettext catalogs with Babel.

The catalogs are the text files ``render/locale/{en,ru}/LC_MESSAGES/hotline.po``. They
are compiled in memory the first time a language is asked for (Babel's ``read_po`` then
``write_mo``), so no binary ``.mo`` file is kept in the repository. Message ids are the
English labels themselves; the English catalog leaves them untranslated (identity) and
exists so English wording can be tuned without touching code.

Placeholders use ``str.format`` braces: ``t("ru", "FROM {start} TO {end}", start=...,
end=...)``. Strings that are only *marked* for the catalog (tables of labels) are
wrapped in :func:`N_`; label helpers that take a msgid argument are listed in
:data:`EXTRACT_KEYWORDS`. To refresh the catalogs after adding labels::

    pybabel extract --no-default-keywords -k t:2 -k gettext:2 -k N_ -k labelled:2 \
        -k units_para:1 -k volumes_para:1 -k optional_text:2 -k _reference:2 \
        -o hotline.pot src/hotline/render src/hotline/services/notices/rules.py
    pybabel update -i hotline.pot -d src/hotline/render/locale -D hotline

``tests/notices/test_i18n.py`` fails when a label in the code has no Russian entry.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from hotline.errors import ValidationError

Lang = Literal["en", "ru"]
LANGS: tuple[str, ...] = get_args(Lang)
DOMAIN = "hotline"
LOCALE_DIR = Path(__file__).parent / "locale"


EXTRACT_KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": (2,),
    "gettext": (2,),
    "N_": None,
    "labelled": (2,),
    "units_para": (1,),
    "volumes_para": (1,),
    "optional_text": (2,),
    "_reference": (2,),
}
"""Functions whose string arguments are msgids (Babel keyword spec, 1-based positions)."""


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction into the catalogs; returns it unchanged."""
    return msgid


def check_lang(lang: str) -> Lang:
    """``lang`` if it is a supported language, else a :class:`ValidationError`."""
    if lang == "en":
        return "en"
    if lang == "ru":
        return "ru"
    raise ValidationError(f"unsupported language {lang!r}", hint="use en or ru", field="lang")


def catalog_path(lang: str) -> Path:
    """Where the ``.po`` catalog of ``lang`` lives."""
    return LOCALE_DIR / check_lang(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> Translations:
    """The compiled translations of ``lang`` (cached; the console shares them)."""
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)  # fuzzy entries are left out, as gettext would
    mo.seek(0)
    return Translations(fp=mo, domain=DOMAIN)


def gettext(lang: str, msgid: str) -> str:
    """``msgid`` translated into ``lang`` (the msgid itself where there is no entry)."""
    return str(translations(lang).gettext(msgid))


def t(lang: str, msgid: str, **values: Any) -> str:
    """Translate ``msgid`` into ``lang`` and fill its ``{placeholders}``."""
    text = gettext(lang, msgid)
    return text.format(**values) if values else text
