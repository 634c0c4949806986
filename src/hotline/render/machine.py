"""Machine drafts of free text: a small translator interface, offline only.

A machine draft helps a translator start; it is never the translation. Every draft
carries the label "machine draft — not certified" / "машинный черновик — не заверен",
and the original text is always kept beside it (translations and their certification
by a second person are recorded by the node, not here).

The only backend is Argos Translate, used when the ``argostranslate`` package is
importable *and* has an installed model for the language pair; it runs locally, so
no text leaves the node. Without it :func:`machine_draft` returns ``None`` and
:func:`unavailable_notice` says so in the reader's language.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.render.i18n import N_, check_lang, gettext

DRAFT_LABEL = N_("machine draft — not certified")
NO_DRAFT = N_("no machine translation available")


@dataclass(frozen=True)
class Draft:
    """A machine translation of ``original`` from ``source`` into ``target``."""

    original: str
    text: str
    source: str
    target: str
    engine: str

    def label(self, lang: str) -> str:
        """The "not certified" label in ``lang``."""
        return gettext(lang, DRAFT_LABEL)

    def labelled(self, lang: str) -> str:
        """The draft text under its label: ``[machine draft — not certified] ...``."""
        return f"[{self.label(lang)}] {self.text}"


class Translator(Protocol):
    """Anything that can draft a translation, or say it cannot (``None``)."""

    def draft(self, text: str, source: str, target: str) -> Draft | None: ...


class NoTranslator:
    """The translator used when none is installed: it never drafts."""

    def draft(self, text: str, source: str, target: str) -> Draft | None:
        """Always ``None``: no machine translation is available."""
        return None


class ArgosTranslator:
    """Argos Translate with locally installed models (offline)."""

    def __init__(self, translate_module: Any) -> None:
        self._argos = translate_module

    @classmethod
    def load(cls) -> ArgosTranslator | None:
        """The backend if ``argostranslate`` can be imported, else ``None``."""
        try:
            module = importlib.import_module("argostranslate.translate")
        except ImportError:
            return None
        return cls(module)

    def _translation(self, source: str, target: str) -> Any:
        languages = {lang.code: lang for lang in self._argos.get_installed_languages()}
        if source not in languages or target not in languages:
            return None
        return languages[source].get_translation(languages[target])

    def draft(self, text: str, source: str, target: str) -> Draft | None:
        """A draft, or ``None`` when no model for ``source`` -> ``target`` is installed."""
        translation = self._translation(source, target)
        if translation is None:
            return None
        out = str(translation.translate(text))
        return Draft(original=text, text=out, source=source, target=target, engine="argos")


def default_translator() -> Translator:
    """Argos Translate where installed, otherwise a translator that never drafts."""
    return ArgosTranslator.load() or NoTranslator()


def machine_draft(
    text: str, source: str, target: str, translator: Translator | None = None
) -> Draft | None:
    """A marked machine draft of ``text``, or ``None`` if no translator can make one."""
    check_lang(source)
    check_lang(target)
    if source == target:
        return None
    return (translator or default_translator()).draft(text, source, target)


def unavailable_notice(lang: str) -> str:
    """What to show instead of a draft: "no machine translation available"."""
    return gettext(lang, NO_DRAFT)
