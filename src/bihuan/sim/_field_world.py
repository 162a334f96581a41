"""What the drill's world knows and the platform does not: who lives where, who is infected and when.

The field teams read ID cards (resident IDs) and the lab's machines read the virus; both come from
the generated district's files. The register ids are matched by resident ID (or passport), as the
health-code feed matches them, so the drill can turn what the platform shows back into the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from bihuan.core.db import Database
from bihuan.sim.contact_logs import _person_ids

DETECTABLE_AFTER = timedelta(hours=48)
"""A swab finds the virus this long after infection (the simulator's natural history, not protocol policy)."""


@dataclass(frozen=True, slots=True)
class Infection:
    key: int
    infector: int | None
    infected_at: datetime  # aware UTC
    onset: date | None  # None: asymptomatic
    truth_sampling: date  # the generator's first positive sampling day (when symptoms bring them in)


@dataclass(frozen=True, slots=True)
class Resident:
    key: int
    card: str  # what a sampler scans: the resident ID (foreign residents, by passport, are not scanned)
    building: str  # building code


class World:
    """The district's residents and its outbreak, keyed by generator person key and by register id."""

    def __init__(self, directory: Path, database: Database, zone: ZoneInfo) -> None:
        facts = json.loads((directory / "manifest.json").read_text())
        self.first_day = date.fromisoformat(facts["start_date"])
        self.days = int(facts["days"])
        self.zone = zone
        persons = pq.read_table(
            directory / "persons.parquet", columns=["person_key", "resident_id", "building_code"]
        ).to_pydict()
        self.residents: dict[int, Resident] = {
            key: Resident(key, rid, building)
            for key, rid, building in zip(
                persons["person_key"], persons["resident_id"], persons["building_code"], strict=True
            )
            if rid
        }
        keys, ids = _person_ids(database, directory)
        self.key_of: dict[int, int] = {int(i): int(k) for k, i in zip(keys.tolist(), ids.tolist(), strict=True)}
        self.id_of: dict[int, int] = {k: i for i, k in self.key_of.items()}
        self.infections: dict[int, Infection] = {}
        for row in pq.read_table(directory / "outbreak" / "infections.parquet").to_pylist():
            infected = row["infected_at"]
            offset = zone.utcoffset(infected) or timedelta(0)
            self.infections[row["infectee_key"]] = Infection(
                key=row["infectee_key"],
                infector=row["infector_key"],
                infected_at=(infected - offset).replace(tzinfo=UTC),  # the generator writes local wall time
                onset=row["onset_date"],
                truth_sampling=row["first_positive_sampling_date"],
            )

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def outbreak_shows(self) -> date:
        """The first day a case comes forward (the generator's earliest positive sampling day)."""
        return min((i.truth_sampling for i in self.infections.values()), default=self.first_day)

    def positive(self, person_id: int, sampled_at: datetime) -> bool:
        """Whether a swab of this person taken then holds the virus."""
        infection = self.infections.get(self.key_of.get(person_id, -1))
        return infection is not None and infection.infected_at + DETECTABLE_AFTER <= sampled_at

    def symptomatic(self, person_id: int, day: date) -> bool:
        onset = self.onset(person_id)
        return onset is not None and onset <= day

    def onset(self, person_id: int) -> date | None:
        """The day this person's symptoms began (None: not infected, or asymptomatic)."""
        infection = self.infections.get(self.key_of.get(person_id, -1))
        return None if infection is None else infection.onset

    def presenting(self, day: date) -> list[int]:
        """Register ids of the symptomatic people who come to a fever clinic on the day, in id order."""
        return sorted(
            self.id_of[i.key]
            for i in self.infections.values()
            if i.onset is not None and i.truth_sampling == day and i.key in self.id_of and i.key in self.residents
        )

    def card(self, person_id: int) -> str:
        return self.residents[self.key_of[person_id]].card

    def building(self, person_id: int) -> str:
        return self.residents[self.key_of[person_id]].building

    def in_buildings(self, buildings: set[str]) -> list[int]:
        """Register ids of the residents of the buildings, in id order."""
        return sorted(
            self.id_of[r.key] for r in self.residents.values() if r.building in buildings and r.key in self.id_of
        )

    def infected_by(self, person_ids: set[int], before: dict[int, datetime]) -> set[int]:
        """The people the given cases infected (the truth's close contacts who mattered), each before the
        moment given for its case (its confirmation)."""
        cases = {self.key_of[p]: p for p in person_ids if p in self.key_of}
        return {
            self.id_of[i.key]
            for i in self.infections.values()
            if i.infector in cases and i.key in self.id_of and i.infected_at <= before[cases[i.infector]]
        }

    def infected(self) -> set[int]:
        return {self.id_of[k] for k in self.infections if k in self.id_of}
