"""Room assignment rules over random arrivals: nobody twice, strangers never together, carers only with
the person they care for, everyone in a room while rooms last."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.isolation.engine import Arrival, FreeRoom, RoomRules, assign_rooms

RULES = RoomRules(carers_per_room=1, carers_allowed=True, households_share_rooms=False)


@st.composite
def arrivals_and_rooms(draw: st.DrawFn) -> tuple[list[Arrival], list[FreeRoom]]:
    arrivals: list[Arrival] = []
    for household in range(draw(st.integers(0, 12))):
        size = draw(st.integers(1, 5))
        alone = size == 1 and draw(st.booleans())
        for _ in range(size):
            needs_carer = draw(st.booleans()) if draw(st.integers(0, 3)) == 0 else False
            arrivals.append(Arrival(len(arrivals) + 1, None if alone else household, needs_carer))
    rooms = [
        FreeRoom(room_id=i + 1, floor_id=draw(st.integers(1, 3)), number=f"{i:03d}", accessible=draw(st.booleans()))
        for i in range(draw(st.integers(0, 40)))
    ]
    return arrivals, rooms


@settings(max_examples=150, deadline=None)
@given(arrivals_and_rooms())
def test_rooms_hold_one_party_each_and_strangers_never_meet(world: tuple[list[Arrival], list[FreeRoom]]) -> None:
    arrivals, rooms = world
    placements = assign_rooms(arrivals, rooms, RULES)
    by_id = {a.person_id: a for a in arrivals}

    assert sorted(p.person_id for p in placements) == sorted(by_id)
    occupants: dict[int, list[int]] = defaultdict(list)
    for placement in placements:
        if placement.room_id is not None:
            occupants[placement.room_id].append(placement.person_id)
    assert set(occupants) <= {r.room_id for r in rooms}
    for people in occupants.values():
        assert len(people) <= 1 + RULES.carers_per_room
        if len(people) > 1:
            cared = [p for p in placements if p.person_id in people and p.carer_for is None]
            assert len(cared) == 1 and by_id[cared[0].person_id].needs_carer
            assert len({by_id[p].household for p in people}) == 1 and by_id[people[0]].household is not None
    parties = len(occupants) + sum(1 for p in placements if p.room_id is None)
    if len(rooms) >= parties:
        assert all(p.room_id is not None for p in placements)


def test_a_household_may_share_one_room_where_the_profile_allows_it() -> None:
    family = [Arrival(1, 7), Arrival(2, 7), Arrival(3, 7)]
    rooms = [FreeRoom(10, 1, "101"), FreeRoom(11, 1, "102")]
    shared = RoomRules(carers_per_room=1, carers_allowed=True, households_share_rooms=True)
    assert {p.room_id for p in assign_rooms(family, rooms, shared)} == {10}
    assert len({p.room_id for p in assign_rooms(family, [*rooms, FreeRoom(12, 1, "103")], RULES)}) == 3
