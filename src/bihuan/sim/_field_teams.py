"""The drill's field teams acting through the API, hour by hour (the five links as people run them).

Testing: fever clinics sample the people whose symptoms bring them in, rounds pool the residents of the
cases' buildings, the lab uploads results as they come off its machines (the truth decides which are
positive), re-test teams sample pool-positive people. Investigators decide confirmations and close their
investigations (tracing's contact engine runs on confirmation). The command centre plans transfers; the
transfer teams dispatch, pick up and hand over. Site staff take temperatures, the plans' tests, release.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from bihuan.protocol import LoopStage, ProtocolProfile
from bihuan.protocol.choices import AreaKind
from bihuan.sim._field_api import Field
from bihuan.sim._field_pace import Agenda, Pace
from bihuan.sim._field_world import World
from bihuan.sim.isolation_day import NORMAL, REAGENTS
from bihuan.sim.testing_round import LAB

LAB_USER, INVESTIGATOR, COMMANDER, TRANSFER, SITES = "lab", "investigator", "commander", "transfer", "site-manager"
NOT_HOME_SHARE = 0.03  # people not at the door when the bus comes (back to the queue)
PLAN_EVERY_HOURS = 2  # the command centre's planning cadence (a drill choice, not protocol policy)
INVESTIGATIONS_EVERY_HOURS = 4  # investigators look over their open investigations
INTERVIEW_WITHIN_HOURS = 2  # the first interview of a case, after its investigation opens
ROUND_STARTS, ROUND_HOURS = (7, 13), 6  # rounds open morning and afternoon, each sampled over 6 hours
STOP_MINUTES = 4  # per pickup
# 平转战: who the command centre puts on each task force (and makes its lead) when it activates the incident.
TASK_FORCE_STAFF = (("testing", LAB_USER), ("tracing", INVESTIGATOR), ("transfer", TRANSFER), ("isolation", SITES))


@dataclass
class RoundLog:
    code: str
    sampled: int = 0
    tubes: int = 0
    positive_pools: int = 0


@dataclass
class Notebook:
    """What the teams wrote down: who they handle, what the lab still owes, the cases and when confirmed."""

    handled: set[int] = field(default_factory=set)  # cases, in stays, under control or awaiting a result
    confirmed_at: dict[int, datetime] = field(default_factory=dict)  # case person id → confirmation time
    entered: set[int] = field(default_factory=set)  # everyone the teams saw enter the loop
    lab_queue: list[tuple[datetime, str, bool, int | None]] = field(default_factory=list)
    scheduled: set[tuple[str, int]] = field(default_factory=set)  # (kind, id) already on the agenda
    busy_vehicles: set[int] = field(default_factory=set)
    rounds: list[RoundLog] = field(default_factory=list)
    screened_buildings: set[str] = field(default_factory=set)
    barcodes: int = 0
    incident_id: int | None = None  # the incident the command centre activated at the first case


class Teams:
    """Every team's routine for one drill."""

    def __init__(
        self,
        fieldwork: Field,
        world: World,
        agenda: Agenda,
        pace: Pace,
        profile: ProtocolProfile,
        *,
        fever: tuple[int, int],
        county: int,
        buildings: dict[str, int],
        round_people: int,
        prefix: str,
    ) -> None:
        self.api, self.world, self.agenda, self.pace, self.profile = fieldwork, world, agenda, pace, profile
        self.fever_campaign, self.fever_site = fever
        self.county = county
        self.buildings, self.round_people, self.prefix = buildings, round_people, prefix
        self.book = Notebook()
        self.zone = world.zone

    # -- the day's routines --------------------------------------------------------------------

    def local(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.zone) + timedelta(hours=hour)

    def plan_day(self, day: date) -> None:
        """Put the day's routines on the agenda; the hourly checks are put on by the drill."""
        self.agenda.at(self.local(day, 7), "temperature rounds", lambda: self.temperature_rounds(day))
        for hour in ROUND_STARTS:
            self.agenda.at(self.local(day, hour), "testing round", lambda: self.open_round(day))
        self.agenda.at(self.local(day, 8), "fever clinics", lambda: self.fever_clinics(day))
        self.agenda.at(self.local(day, 9), "site tests", lambda: self.site_tests(day))
        self.agenda.at(self.local(day, 10), "releases", self.releases)

    def hourly(self, hour: int) -> None:
        """What the teams check every hour: results ready, re-tests, confirmations, investigations, batches."""
        self.lab_upload()
        self.retests()
        self.confirmations()
        if hour % INVESTIGATIONS_EVERY_HOURS == 0:
            self.investigations()
        if hour % PLAN_EVERY_HOURS == 0:
            self.plan_transfers()
        self.batches()

    # -- testing (快检测) ---------------------------------------------------------------------------

    def _barcode(self, kind: str) -> str:
        self.book.barcodes += 1
        return f"{self.prefix}-{kind}{self.book.barcodes:07d}"

    def _to_lab(self, barcode: str, positive: bool, person_id: int | None, stage: LoopStage) -> None:
        """The tube goes to the lab; its result is ready after the lab's turnaround."""
        ready = self.agenda.clock.now() + self.pace.delay(stage)
        self.book.lab_queue.append((ready, barcode, positive, person_id))

    def fever_clinics(self, day: date) -> None:
        """People whose symptoms bring them in today come to the fever clinic over the day (单管单采)."""
        for person_id in self.world.presenting(day):
            if person_id in self.book.handled:
                continue
            self.book.handled.add(person_id)
            when = self.local(day, 8) + self.pace.within(10)
            self.agenda.at(when, "fever clinic sample", partial(self._fever_sample, person_id))

    def _fever_sample(self, person_id: int) -> None:
        barcode = self._barcode("F")
        tube = self.api.post(
            LAB_USER,
            f"/api/screening/campaigns/{self.fever_campaign}/tubes",
            {"site_id": self.fever_site, "barcode": barcode, "kind": "single"},
        )
        self.api.post(
            LAB_USER, f"/api/screening/tubes/{tube['id']}/samples", {"resident_id": self.world.card(person_id)}
        )
        if tube["capacity"] > 1:
            self.api.post(LAB_USER, f"/api/screening/tubes/{tube['id']}/close")
        positive = self.world.positive(person_id, self.agenda.clock.now())
        if not positive:
            self.book.handled.discard(person_id)
        self._to_lab(barcode, positive, person_id, LoopStage.SAMPLE_TO_RESULT)

    def open_round(self, day: date) -> None:
        """A round over the buildings of the cases so far, the newest cases' buildings first, up to the
        sampling teams' capacity (per round); each building once."""
        order: list[str] = []
        for person_id, _ in sorted(self.book.confirmed_at.items(), key=lambda item: (item[1], item[0]), reverse=True):
            building = self.world.building(person_id)
            if building not in order and building not in self.book.screened_buildings:
                order.append(building)
        chosen: list[str] = []
        people: list[int] = []
        for building in order:
            residents = [p for p in self.world.in_buildings({building}) if p not in self.book.handled]
            if chosen and len(people) + len(residents) > self.round_people:
                break
            chosen.append(building)
            people.extend(residents)
        if not chosen or not people:
            return
        self.book.screened_buildings.update(chosen)
        log = RoundLog(f"{self.prefix}-R{len(self.book.rounds) + 1}")
        self.book.rounds.append(log)
        start = self.agenda.clock.now()
        units = [{"jurisdiction_id": self.buildings[b], "area_kind": "controlled"} for b in chosen]
        campaign = self.api.post(
            COMMANDER,
            "/api/screening/campaigns",
            {"code": log.code, "name": f"区域核酸筛查 {log.code}", "starts_at": start.isoformat(), "units": units},
        )
        site = self.api.post(
            COMMANDER,
            f"/api/screening/campaigns/{campaign['id']}/sites",
            {
                "code": f"{log.code}-S1",
                "name": f"{log.code} 采样点",
                "jurisdiction_id": self.buildings[chosen[0]],
                "opens_at": start.isoformat(),
                "closes_at": (start + timedelta(hours=ROUND_HOURS)).isoformat(),
                "capacity_per_hour": 600,
            },
        )
        pool = self.profile.screening.pool_size[AreaKind.CONTROLLED]
        tubes = [people[i : i + pool] for i in range(0, len(people), pool)]
        for index, members in enumerate(tubes):
            when = start + timedelta(hours=ROUND_HOURS * index / len(tubes))
            self.agenda.at(when, "round tube", partial(self._pool, campaign["id"], site["id"], members, log))

    def _pool(self, campaign_id: int, site_id: int, members: list[int], log: RoundLog) -> None:
        barcode = self._barcode("P")
        tube = self.api.post(
            LAB_USER, f"/api/screening/campaigns/{campaign_id}/tubes", {"site_id": site_id, "barcode": barcode}
        )
        closed = False
        for person_id in members:
            scan = self.api.post(
                LAB_USER, f"/api/screening/tubes/{tube['id']}/samples", {"resident_id": self.world.card(person_id)}
            )
            closed = scan.get("tube", {}).get("closed_at") is not None
        if not closed:
            self.api.post(LAB_USER, f"/api/screening/tubes/{tube['id']}/close")
        now = self.agenda.clock.now()
        positive = any(self.world.positive(p, now) for p in members)
        log.sampled += len(members)
        log.tubes += 1
        log.positive_pools += positive
        self._to_lab(barcode, positive, None, LoopStage.SAMPLE_TO_RESULT)

    def lab_upload(self) -> None:
        """The lab sends every result ready by now, in one file (its machines' export)."""
        now = self.agenda.clock.now()
        ready = [row for row in self.book.lab_queue if row[0] <= now]
        if not ready:
            return
        self.book.lab_queue = [row for row in self.book.lab_queue if row[0] > now]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["tube_barcode", "result", "ct_orf1ab", "ct_n", "lab", "run_id", "received_at", "tested_at"])
        run = f"{self.prefix}-RUN{self.book.barcodes}-{now:%m%d%H}"
        for _, barcode, positive, person_id in ready:
            ct = ("26.4", "27.9") if positive else ("", "")
            result = "positive" if positive else "negative"
            writer.writerow([barcode, result, *ct, LAB, run, (now - timedelta(hours=1)).isoformat(), now.isoformat()])
            if person_id is not None and not positive and person_id not in self.book.confirmed_at:
                self.book.handled.discard(person_id)
        files = {"file": (f"{run}.csv", buffer.getvalue().encode("utf-8"), "text/csv")}
        self.api.post(LAB_USER, "/api/screening/lab-results/upload", files=files)

    def retests(self) -> None:
        """Re-test teams go to each pool-positive person's door (单采复核)."""
        for task in self.api.pages(LAB_USER, "/api/screening/retests", status="open"):
            if ("retest", task["id"]) in self.book.scheduled:
                continue
            self.book.scheduled.add(("retest", task["id"]))
            self.book.handled.add(task["person_id"])
            self.book.entered.add(task["person_id"])
            when = datetime.fromisoformat(task["created_at"]) + self.pace.delay(LoopStage.POOL_POSITIVE_TO_CONTROLLED)
            self.agenda.at(when, "re-test", partial(self._retest, task))

    def _retest(self, task: dict[str, Any]) -> None:
        barcode = self._barcode("R")
        self.api.post(LAB_USER, f"/api/screening/retests/{task['id']}/sample", {"barcode": barcode})
        positive = self.world.positive(task["person_id"], self.agenda.clock.now())
        self._to_lab(barcode, positive, task["person_id"], LoopStage.SAMPLE_TO_RESULT)

    # -- tracing (快流调) ----------------------------------------------------------------------------

    def confirmations(self) -> None:
        """Investigators decide each individual positive: a case, an asymptomatic infection, or not."""
        for item in self.api.pages(INVESTIGATOR, "/api/screening/confirmations", status="pending"):
            if ("confirmation", item["id"]) in self.book.scheduled:
                continue
            self.book.scheduled.add(("confirmation", item["id"]))
            self.book.entered.add(item["person_id"])
            when = datetime.fromisoformat(item["opened_at"]) + self.pace.delay(LoopStage.RESULT_TO_CONFIRMED)
            self.agenda.at(when, "confirmation", partial(self._decide, item))

    def _decide(self, item: dict[str, Any]) -> None:
        person_id = item["person_id"]
        now = self.agenda.clock.now()
        if not self.world.positive(person_id, now):
            outcome = "not_confirmed"
        elif self.world.symptomatic(person_id, now.astimezone(self.zone).date()):
            outcome = "confirmed"
        else:
            outcome = "asymptomatic"
        path = f"/api/screening/confirmations/{item['id']}/decide"
        # 409: the person was confirmed a case meanwhile, by another positive of theirs.
        decided = self.api.post(INVESTIGATOR, path, {"outcome": outcome}, ok=(200, 201, 409))
        if decided is not None and outcome != "not_confirmed":
            self.book.confirmed_at[person_id] = now
            self.book.handled.add(person_id)
            self._activate_incident()

    # -- command (指挥体系) ---------------------------------------------------------------------------

    def _activate_incident(self) -> None:
        """平转战 at the first case: the command centre activates an incident at the county and staffs its task
        forces, so the loop's tasks have teams to go to and the reports come at the wartime cadence."""
        if self.book.incident_id is not None:
            return
        body = {"jurisdiction_id": self.county, "name": f"本土疫情处置 {self.prefix}", "reason": "首例本土确诊病例"}
        incident = self.api.post(COMMANDER, "/api/incidents", body)
        self.book.incident_id = incident["id"]
        for link, user in TASK_FORCE_STAFF:
            member = {"user_id": self.api.get(user, "/api/auth/me")["id"], "lead": True}
            self.api.post(COMMANDER, f"/api/incidents/{incident['id']}/task-forces/{link}/members", member)

    def investigations(self) -> None:
        """Each investigation is closed once the county CDC's investigation is done."""
        for item in self.api.pages(INVESTIGATOR, "/api/investigations", status="open"):
            if ("investigation", item["id"]) in self.book.scheduled:
                continue
            self.book.scheduled.add(("investigation", item["id"]))
            opened = datetime.fromisoformat(item["opened_at"])
            interview = max(opened, self.agenda.clock.now()) + self.pace.within(INTERVIEW_WITHIN_HOURS)
            self.agenda.at(interview, "case interview", partial(self._interview, item))
            when = opened + self.pace.delay(LoopStage.COUNTY_CASE_INVESTIGATION)
            path = f"/api/investigations/{item['id']}/close"
            self.agenda.at(when, "close investigation", partial(self.api.post, INVESTIGATOR, path))

    def _interview(self, item: dict[str, Any]) -> None:
        """The first interview: the investigator records the onset the case recalls (the truth's)."""
        onset = self.world.onset(item["person_id"])
        confirmed = datetime.fromisoformat(item["confirmed_at"]).astimezone(self.zone).date()
        if onset is not None and onset <= confirmed and item.get("onset_date") is None:
            body = {"onset_date": onset.isoformat()}
            self.api.call(INVESTIGATOR, "PATCH", f"/api/investigations/{item['id']}", json=body)

    # -- grouping and transfer (快编组、快转运) -------------------------------------------------------

    def plan_transfers(self) -> None:
        """The command centre plans whoever waits in the queue onto batches."""
        if self.api.get(COMMANDER, "/api/transfer-queue/summary")["waiting"]:
            self.api.post(COMMANDER, "/api/transfer-plans", {})

    def batches(self) -> None:
        """Each free vehicle takes its next planned batch, at its planned start or when the crew is ready."""
        planned = sorted(
            self.api.pages(TRANSFER, "/api/batches", status="planned"),
            key=lambda b: (b["vehicle_id"], b["sequence"], b["id"]),
        )
        taken: set[int] = set()
        for batch in planned:
            vehicle = batch["vehicle_id"]
            if vehicle in self.book.busy_vehicles or vehicle in taken or ("batch", batch["id"]) in self.book.scheduled:
                continue
            taken.add(vehicle)
            self.book.busy_vehicles.add(vehicle)
            self.book.scheduled.add(("batch", batch["id"]))
            start = max(datetime.fromisoformat(batch["planned_start"]), self.agenda.clock.now())
            late = self.pace.factor() - 1
            when = start + (timedelta(minutes=30) * late if late > 0 else timedelta(0))
            self.agenda.at(when, "dispatch", partial(self._dispatch, batch))

    def _dispatch(self, batch: dict[str, Any]) -> None:
        # A batch re-planned or cancelled since (409) is no longer this crew's: the vehicle is free again.
        detail = self.api.post(TRANSFER, f"/api/batches/{batch['id']}/dispatch", ok=(200, 409))
        if detail is None or detail.get("status") != "dispatched":
            self.book.busy_vehicles.discard(batch["vehicle_id"])
            return
        now = self.agenda.clock.now()
        planned = datetime.fromisoformat(batch["planned_end"]) - datetime.fromisoformat(batch["planned_start"])
        members = sorted(detail["members"], key=lambda m: (m["stop_index"], m["person_id"]))
        for index, member in enumerate(members):
            self.book.entered.add(member["person_id"])
            when = now + timedelta(minutes=STOP_MINUTES * (index + 1))
            self.agenda.at(when, "pickup", partial(self._pick_up, batch["id"], member["person_id"]))
        drive = planned * max(self.pace.factor() * 2, 0.8)
        arrive = now + max(drive, timedelta(minutes=STOP_MINUTES * (len(members) + 2)))
        self.agenda.at(arrive, "arrival", partial(self._arrive, batch))

    def _pick_up(self, batch_id: int, person_id: int) -> None:
        if self.pace.chance(NOT_HOME_SHARE):
            body = {"reason": "不在家，电话未接通"}
            self.api.post(TRANSFER, f"/api/batches/{batch_id}/members/{person_id}/not-picked-up", body, ok=(200, 409))
            return
        # 409: the person left the batch meanwhile (e.g. confirmed a case on the way: re-queued as one).
        if self.api.post(TRANSFER, f"/api/batches/{batch_id}/members/{person_id}/pickup", ok=(200, 409)):
            self.book.handled.add(person_id)

    def _arrive(self, batch: dict[str, Any]) -> None:
        self.api.post(TRANSFER, f"/api/batches/{batch['id']}/arrive", {}, ok=(200, 409))
        self.book.busy_vehicles.discard(batch["vehicle_id"])

    # -- isolation (快隔离) ---------------------------------------------------------------------------

    def _sites(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.api.get(SITES, "/api/sites")["data"]
        return sorted(rows, key=lambda s: s["id"])

    def temperature_rounds(self, day: date) -> None:
        """The morning round at every site: a fever for the people whose symptoms have begun."""
        now = self.agenda.clock.now()
        for site in self._sites():
            stays = list(self.api.pages(SITES, f"/api/sites/{site['id']}/stays"))
            readings = [
                {
                    "stay_id": stay["id"],
                    "value": 38.2 if self.world.symptomatic(stay["person_id"], day) else NORMAL[n % len(NORMAL)],
                    "measured_at": now.isoformat(),
                }
                for n, stay in enumerate(stays)
            ]
            for start in range(0, len(readings), 2000):
                body = {"readings": readings[start : start + 2000]}
                self.api.post(SITES, f"/api/sites/{site['id']}/temperatures", body)

    def site_tests(self, day: date) -> None:
        """The plans' tests of the day (and overdue ones), taken as single tubes over the morning."""
        for site in self._sites():
            due = list(self.api.pages(SITES, f"/api/sites/{site['id']}/tests", day=day.isoformat()))
            for test in due:
                if not test["tubes_needed"]:
                    continue
                when = self.agenda.clock.now() + self.pace.within(4)
                self.agenda.at(when, "site test", partial(self._site_test, site["id"], test))

    def _site_test(self, site_id: int, test: dict[str, Any]) -> None:
        if ("site-test", test["id"]) in self.book.scheduled:
            return
        self.book.scheduled.add(("site-test", test["id"]))
        tubes = [
            {"barcode": self._barcode("Q"), "reagent": REAGENTS[i % len(REAGENTS)]} for i in range(test["samples"])
        ]
        # 409: the test was cancelled meanwhile (the person left the site, or their plan changed).
        path = f"/api/sites/{site_id}/tests/{test['id']}/samples"
        if self.api.post(SITES, path, {"tubes": tubes}, ok=(200, 201, 409)) is None:
            return
        positive = self.world.positive(test["person_id"], self.agenda.clock.now())
        for tube in tubes:
            self._to_lab(tube["barcode"], positive, test["person_id"], LoopStage.SAMPLE_TO_RESULT)

    def releases(self) -> None:
        """Whoever's plan and release tests allow it goes home today."""
        for site in self._sites():
            ready = [c["stay_id"] for c in self.api.get(SITES, f"/api/sites/{site['id']}/release-list") if c["ready"]]
            if ready:
                self.api.post(SITES, f"/api/sites/{site['id']}/release", {"stay_ids": ready})
