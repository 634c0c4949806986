"""The map's theatre setting (``map_theatre``): where the map opens when nothing is in
force. Checked when the settings are read (a box that is not south < north, west < east
is refused with the setting's name) and served to the map page with its data."""

from __future__ import annotations

import pydantic
import pytest

from tests.conftest import MakePair, Pair
from tests.web.conftest import PASSWORD, log_in


@pytest.mark.parametrize(
    "value", ["56,22,44,42", "44,42,56,22", "44,22,56", "north", "44,22,96,42", "44,-190,56,42"]
)
def test_a_theatre_that_is_not_a_box_is_refused(pair: Pair, value: str) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        pair.us.settings.replace(map_theatre=value)

    assert "map_theatre" in str(refused.value)


def test_the_map_data_carries_the_theatre_as_leaflet_bounds(make_pair: MakePair) -> None:
    with make_pair(us={"map_theatre": "44,22,56.5,42"}) as pair:
        for node in (pair.us, pair.ru):
            node.auth.add_user("duty", PASSWORD)
        us = log_in(pair.servers["us"].url, "duty")
        ru = log_in(pair.servers["ru"].url, "duty")
        try:
            ours = us.get("/console/map/data").json()["theatre"]
            theirs = ru.get("/console/map/data").json()["theatre"]
        finally:
            us.http.close()
            ru.http.close()

    assert [[44.0, 22.0], [56.5, 42.0]] == ours
    assert theirs is None
