from __future__ import annotations

from plugins.invoices.states import STATE_NAMES


def test_every_state_and_union_territory_has_its_code() -> None:
    assert set(STATE_NAMES) == {f"{code:02d}" for code in range(1, 39)} | {"97", "99"}
    assert STATE_NAMES["27"] == "Maharashtra"
    assert STATE_NAMES["36"] == "Telangana"
    assert STATE_NAMES["37"] == "Andhra Pradesh"
    assert STATE_NAMES["38"] == "Ladakh"
    assert len(set(STATE_NAMES.values())) == len(STATE_NAMES)
