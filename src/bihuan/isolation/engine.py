"""Room assignment at arrival (入住分房), as pure rules: one person per room, categories by floor.

The profile's exceptions: a person who needs a carer (minor, elderly, disabled) shares their room
with one adult of their household, and — where the profile allows it — a household shares a room.
A household is kept on one floor, in rooms next to each other where the floor has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arrival:
    """A person handed over at the site."""

    person_id: int
    household: int | None
    needs_carer: bool = False


@dataclass(frozen=True, slots=True)
class FreeRoom:
    room_id: int
    floor_id: int
    number: str
    accessible: bool = False


@dataclass(frozen=True, slots=True)
class RoomRules:
    """From the profile's site section: how many carers may share a vulnerable person's room."""

    carers_per_room: int
    carers_allowed: bool
    households_share_rooms: bool


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one arrival sleeps; ``carer_for`` names the person they care for in that room."""

    person_id: int
    room_id: int | None  # None: no free room on the category's floors (reported, never doubled up)
    carer_for: int | None = None


def _parties(arrivals: Sequence[Arrival], rules: RoomRules) -> list[list[Arrival]]:
    """The groups that share one room each: a household (where allowed), a person with their carer, or one."""
    households: dict[int, list[Arrival]] = {}
    parties: list[list[Arrival]] = []
    for arrival in arrivals:
        if arrival.household is None:
            parties.append([arrival])
        else:
            households.setdefault(arrival.household, []).append(arrival)
    for members in households.values():
        parties.extend([members] if rules.households_share_rooms else _with_carers(members, rules))
    return parties


def _with_carers(members: list[Arrival], rules: RoomRules) -> list[list[Arrival]]:
    needing = [m for m in members if m.needs_carer]
    adults = [m for m in members if not m.needs_carer]
    parties: list[list[Arrival]] = []
    for person in needing:
        carers = adults[: rules.carers_per_room] if rules.carers_allowed else []
        del adults[: len(carers)]
        parties.append([person, *carers])
    return parties + [[adult] for adult in adults]


def assign_rooms(arrivals: Sequence[Arrival], free: Sequence[FreeRoom], rules: RoomRules) -> list[Placement]:
    """Give each party a free room of the category's floors, a household's parties on one floor together,
    rooms with a carer accessible first; whoever finds no room is placed nowhere (room None)."""
    by_floor: dict[int, list[FreeRoom]] = {}
    for free_room in sorted(free, key=lambda r: (r.floor_id, r.number)):
        by_floor.setdefault(free_room.floor_id, []).append(free_room)
    placements: list[Placement] = []
    for household in _by_household(_parties(arrivals, rules)):
        floor = _floor_for(by_floor, len(household))
        for party in household:
            room = _take(by_floor, floor, accessible=len(party) > 1)
            placements.extend(_placed(party, room))
    return placements


def _by_household(parties: list[list[Arrival]]) -> list[list[list[Arrival]]]:
    grouped: dict[object, list[list[Arrival]]] = {}
    for party in parties:
        key = party[0].household if party[0].household is not None else ("alone", party[0].person_id)
        grouped.setdefault(key, []).append(party)
    return list(grouped.values())


def _floor_for(by_floor: dict[int, list[FreeRoom]], rooms_needed: int) -> int | None:
    """The first floor with room for the whole household, else the floor with most free rooms."""
    for floor, rooms in by_floor.items():
        if len(rooms) >= rooms_needed:
            return floor
    return max(by_floor, key=lambda f: len(by_floor[f]), default=None)


def _take(by_floor: dict[int, list[FreeRoom]], floor: int | None, *, accessible: bool) -> FreeRoom | None:
    floors = [floor] if floor is not None and by_floor.get(floor) else [f for f in by_floor if by_floor[f]]
    if not floors:
        return None
    rooms = by_floor[floors[0]]
    room: FreeRoom = next((r for r in rooms if r.accessible), rooms[0]) if accessible else rooms[0]
    rooms.remove(room)
    if not rooms:
        del by_floor[floors[0]]
    return room


def _placed(party: list[Arrival], room: FreeRoom | None) -> list[Placement]:
    room_id = None if room is None else room.room_id
    first = party[0]
    carer_of = first.person_id if first.needs_carer else None
    return [Placement(first.person_id, room_id)] + [
        Placement(member.person_id, room_id, carer_for=carer_of) for member in party[1:]
    ]
