"""A demo testing round (快检测) driven through the platform's services, as field teams and a lab would.

The simulator knows who is infected (the outbreak's ground truth); the platform does not. Samplers
scan the residents of a few communities into 10-in-1 tubes, the lab reports every tube that holds an
infected person as positive, re-test teams sample the pool-positive people one by one, and
investigators decide the confirmations — so the follow-up the platform runs can be checked.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.people import service as register
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.protocol.choices import AreaKind
from bihuan.screening.choices import ConfirmationStatus, RetestStatus
from bihuan.screening.schemas.campaigns import CampaignCreate, CampaignUnitCreate, SiteCreate, TubeOpen
from bihuan.screening.service import campaigns, followup, results, sampling

Step = Callable[[str], None]
LAB = "绍兴市疾控中心实验室"
DEMO_ROUND = "DEMO-R1"
_PAGE = Page(page=1, page_size=200)


@dataclass(frozen=True)
class RoundSummary:
    campaign_code: str
    sampled: int
    tubes: int
    positive_pools: int
    controlled: int
    retests_sampled: int
    cases: int
    infected_sampled: int  # from the ground truth: every one of them should end as a case


@dataclass(frozen=True)
class _Resident:
    resident_id: str
    infected: bool
    asymptomatic: bool


def _residents_by_community(directory: Path, people: int) -> dict[str, list[_Resident]]:
    """The smallest communities with infections, whole, up to about `people` scannable residents."""
    places = pq.read_table(directory / "jurisdictions.parquet", columns=["code", "parent_code"]).to_pylist()
    parent = {p["code"]: p["parent_code"] for p in places}
    persons = pq.read_table(directory / "persons.parquet", columns=["person_key", "resident_id", "building_code"])
    persons = persons.filter(pc.is_valid(persons["resident_id"]))
    infections = pq.read_table(directory / "outbreak" / "infections.parquet", columns=["infectee_key", "asymptomatic"])
    infected = dict(zip(infections["infectee_key"].to_pylist(), infections["asymptomatic"].to_pylist(), strict=True))
    communities: dict[str, list[_Resident]] = defaultdict(list)
    for key, rid, building in zip(*(persons[c].to_pylist() for c in persons.column_names), strict=True):
        communities[parent[building]].append(_Resident(rid, key in infected, bool(infected.get(key, False))))
    chosen: dict[str, list[_Resident]] = {}
    with_cases = sorted(
        (c for c in communities if any(r.infected for r in communities[c])), key=lambda c: (len(communities[c]), c)
    )
    for code in with_cases:
        if sum(len(r) for r in chosen.values()) + len(communities[code]) > people and chosen:
            break
        chosen[code] = communities[code]
    return chosen


def _lab_csv(rows: list[tuple[str, bool]], run_id: str, received: datetime, tested: datetime) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["tube_barcode", "result", "ct_orf1ab", "ct_n", "lab", "run_id", "received_at", "tested_at"])
    for barcode, positive in rows:
        ct = ("26.4", "27.9") if positive else ("", "")
        writer.writerow(
            [
                barcode,
                "positive" if positive else "negative",
                *ct,
                LAB,
                run_id,
                received.isoformat(),
                tested.isoformat(),
            ]
        )
    return buffer.getvalue().encode("utf-8")


class _Drill:
    """One round, step by step, each step in its own transaction at its own simulated time."""

    def __init__(self, database: Database, clock: SimulatedClock, profile: ProtocolProfile, timezone: str) -> None:
        self.database, self.clock, self.profile, self.timezone = database, clock, profile, timezone

    def run(self, code: str, units: dict[str, list[_Resident]], ids: dict[str, int], say: Step) -> RoundSummary:
        tubes = self._sample(code, units, ids, say)
        say("lab results")
        self.clock.advance(timedelta(hours=6))
        with self.database.session() as session:
            ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
            now = self.clock.now()
            csv_bytes = _lab_csv(tubes, f"{code}-RUN1", now - timedelta(hours=3), now)
            results.ingest_lab_file(ctx, f"{code}-run1.csv", csv_bytes, timezone=self.timezone)
        truth = {r.resident_id: r for people in units.values() for r in people}
        retested = self._retest(code, truth, say)
        cases = self._decide(truth, say)
        return RoundSummary(
            code,
            sum(len(p) for p in units.values()),
            len(tubes),
            sum(1 for _, positive in tubes if positive),
            retested,
            retested,
            cases,
            sum(1 for r in truth.values() if r.infected),
        )

    def _sample(
        self, code: str, units: dict[str, list[_Resident]], ids: dict[str, int], say: Step
    ) -> list[tuple[str, bool]]:
        now = self.clock.now()
        with self.database.session() as session:
            ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
            plan = [CampaignUnitCreate(jurisdiction_id=ids[u], area_kind=AreaKind.CONTROLLED) for u in units]
            campaign = campaigns.create_campaign(
                ctx, CampaignCreate(code=code, name=f"演示轮次 {code}", units=plan), self.profile
            )
            sites = {
                s: campaigns.create_site(
                    ctx,
                    campaign.id,
                    SiteCreate(
                        code=f"S{n}",
                        name=f"采样点 {n}",
                        jurisdiction_id=ids[s],
                        opens_at=now,
                        closes_at=now + timedelta(hours=12),
                        capacity_per_hour=600,
                    ),
                ).id
                for n, s in enumerate(units, 1)
            }
        tubes: list[tuple[str, bool]] = []
        for unit, residents in units.items():
            say(f"sampling community {unit}")
            with self.database.session() as session:
                ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
                tube, positive = None, False
                for resident in residents:
                    if tube is None:
                        barcode = f"{code}-{len(tubes) + 1:07d}"
                        tube, _ = sampling.open_tube(ctx, campaign.id, TubeOpen(site_id=sites[unit], barcode=barcode))
                    outcome = sampling.scan_person(ctx, tube.id, resident.resident_id)
                    positive = positive or resident.infected
                    if outcome.tube.closed_at is not None:
                        tubes.append((tube.barcode, positive))
                        tube, positive = None, False
                if tube is not None:
                    sampling.close_tube(ctx, tube.id)
                    tubes.append((tube.barcode, positive))
        return tubes

    def _retest(self, code: str, truth: dict[str, _Resident], say: Step) -> int:
        say("re-tests")
        self.clock.advance(timedelta(hours=1))
        sampled: list[tuple[str, int]] = []  # (single-tube barcode, person id)
        with self.database.session() as session:
            ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
            while True:
                tasks, _count = followup.list_retests(ctx, _PAGE, status=RetestStatus.OPEN)
                if not tasks:
                    break
                for task in tasks:
                    barcode = f"{code}-RT{task.id:06d}"
                    followup.sample_retest(ctx, task.id, barcode)
                    sampled.append((barcode, task.person_id))
            revealed = _resident_ids(ctx, [person_id for _, person_id in sampled])
        self.clock.advance(timedelta(hours=3))
        with self.database.session() as session:
            ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
            now = self.clock.now()
            lab_rows = [(barcode, truth[revealed[person_id]].infected) for barcode, person_id in sampled]
            content = _lab_csv(lab_rows, f"{code}-RUN2", now - timedelta(hours=2), now)
            results.ingest_lab_file(ctx, f"{code}-retests.csv", content, timezone=self.timezone)
        return len(sampled)

    def _decide(self, truth: dict[str, _Resident], say: Step) -> int:
        say("confirmations")
        self.clock.advance(timedelta(minutes=30))
        decided = 0
        with self.database.session() as session:
            ctx = Ctx(session=session, clock=self.clock, actor=SYSTEM)
            while pending := followup.list_confirmations(ctx, _PAGE, status=ConfirmationStatus.PENDING)[0]:
                revealed = _resident_ids(ctx, [c.person_id for c in pending])
                for confirmation in pending:
                    person = truth[revealed[confirmation.person_id]]
                    outcome = ConfirmationStatus.ASYMPTOMATIC if person.asymptomatic else ConfirmationStatus.CONFIRMED
                    followup.decide_confirmation(ctx, confirmation.id, outcome, "演示", timezone=self.timezone)
                    decided += 1
        return decided


def _resident_ids(ctx: Ctx, person_ids: list[int]) -> dict[int, str]:
    """The field team reads the ID card in front of them: the full number, logged as a reveal."""
    reason = "demo drill: the field team reads the ID card"
    return {pid: register.reveal_identity(ctx, pid, reason).resident_id or "" for pid in person_ids}


def run_demo_round(
    database: Database,
    directory: Path,
    profile: ProtocolProfile,
    *,
    timezone: str,
    people: int = 2000,
    start: datetime,
    step: Step | None = None,
) -> RoundSummary | None:
    """Run one demo round over whole communities holding about `people` residents; None when one exists."""
    say = step or (lambda _message: None)
    with database.session() as session:
        ctx = Ctx(session=session, clock=SimulatedClock(start), actor=SYSTEM)
        if campaigns.list_campaigns(ctx, Page(page=1, page_size=1))[1]:
            return None  # the demo already has its round
        units = _residents_by_community(directory, people)
        ids = {code: place.id for code, place in register.jurisdictions_by_code(ctx, set(units)).items()}
    drill = _Drill(database, SimulatedClock(start), profile, timezone)
    return drill.run(DEMO_ROUND, units, ids, say)
