"""Machine drafts: absent unless Argos Translate and a model are installed; always marked."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from hotline.render.machine import (
    ArgosTranslator,
    Draft,
    NoTranslator,
    default_translator,
    machine_draft,
    unavailable_notice,
)


def test_without_argos_no_machine_translation_is_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes the import fail, as on a node without argostranslate
    monkeypatch.setitem(sys.modules, "argostranslate", None)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", None)

    assert isinstance(default_translator(), NoTranslator)
    assert None is machine_draft("Request immediate deconfliction.", "en", "ru")
    assert "no machine translation available" == unavailable_notice("en")
    assert "машинный перевод недоступен" == unavailable_notice("ru")


class _FakeLanguage:
    def __init__(self, code: str, table: dict[str, str]) -> None:
        self.code = code
        self._table = table

    def get_translation(self, other: _FakeLanguage) -> Any:
        table = self._table
        if other.code == self.code:
            return None
        return types.SimpleNamespace(translate=lambda text: table.get(text, text.upper()))


def _fake_argos(codes: list[str]) -> types.ModuleType:
    module = types.ModuleType("argostranslate.translate")
    table = {"Stand by.": "Ожидайте."}
    languages = [_FakeLanguage(code, table) for code in codes]
    module.get_installed_languages = lambda: languages  # type: ignore[attr-defined]
    return module


def test_argos_draft_is_marked_not_certified() -> None:
    translator = ArgosTranslator(_fake_argos(["en", "ru"]))

    draft = machine_draft("Stand by.", "en", "ru", translator)

    assert Draft("Stand by.", "Ожидайте.", "en", "ru", "argos") == draft
    assert "[машинный черновик — не заверен] Ожидайте." == draft.labelled("ru")
    assert "machine draft — not certified" == draft.label("en")


def test_argos_without_a_model_for_the_pair_gives_no_draft() -> None:
    translator = ArgosTranslator(_fake_argos(["en", "de"]))

    assert None is machine_draft("Stand by.", "en", "ru", translator)


def test_argos_is_loaded_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    package = types.ModuleType("argostranslate")
    monkeypatch.setitem(sys.modules, "argostranslate", package)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", _fake_argos(["en", "ru"]))

    assert isinstance(default_translator(), ArgosTranslator)


def test_same_language_needs_no_draft() -> None:
    assert None is machine_draft("Stand by.", "en", "en", ArgosTranslator(_fake_argos(["en"])))
