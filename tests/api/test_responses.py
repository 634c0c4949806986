"""The base of every JSON answer (``hotline.responses.Out``): what a service built goes out
as it was built, even when the model does not describe it."""

from __future__ import annotations

import pytest

from hotline.responses import Out, UndescribedResponse


class Count(Out):
    n: int


def test_keys_keep_the_order_the_service_built_them_in() -> None:
    built = {"z": 1, "n": 2, "a": None}
    assert list(built.items()) == list(Count.model_validate(built).model_dump(mode="json").items())


def test_an_answer_the_model_does_not_describe_goes_out_exactly_as_built() -> None:
    built = {"n": True, "extra": [1, 2]}  # True is no int: a bug in the model, not the answer

    with pytest.warns(UndescribedResponse):
        answer = Count.model_validate(built)

    assert built == answer.model_dump(mode="json")
    assert True is answer.model_dump(mode="json")["n"]  # not coerced to 1
