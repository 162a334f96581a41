"""Tubes, samples and lab exports for the lab-results tests, built straight on the tables.

These tests do not go through the sampling service: they build what sampling would have left
(a tube, its samples, a `sampled` event each) so that lab results can be tested on their own.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from openpyxl import Workbook
from tests.factories import context, make_person

from bihuan.core import auth
from bihuan.core.choices import EventKind
from bihuan.core.clock import Clock
from bihuan.core.db import Database
from bihuan.core.events import make_event, record_many
from bihuan.people.models import Person
from bihuan.screening.choices import SampleKind, TubeKind
from bihuan.screening.models import Sample, Tube
from bihuan.screening.service.results import COLUMNS, on_tubes_opened

LAB = "绍兴市疾控中心实验室"
ZONE = "Asia/Shanghai"
_barcodes = itertools.count(1)


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the smallest cost: logins in these tests take milliseconds."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def new_barcode(prefix: str = "SX") -> str:
    return f"{prefix}{next(_barcodes):08d}"


def make_people(database: Database, clock: Clock, jurisdiction_id: int, count: int) -> list[int]:
    return [make_person(database, clock, jurisdiction_id).id for _ in range(count)]


def make_tube(
    database: Database,
    clock: Clock,
    person_ids: Iterable[int],
    *,
    barcode: str | None = None,
    kind: TubeKind = TubeKind.POOLED,
    sample_kind: SampleKind = SampleKind.SCREENING,
    announce: bool = True,
) -> Tube:
    """A closed tube holding one sample per person, with a `sampled` event each, as sampling leaves it.

    `announce` calls results.on_tubes_opened as the sampling service does when it opens a tube."""
    people = list(person_ids)
    now = clock.now()
    with context(database, clock) as ctx:
        tube = Tube(
            barcode=barcode or new_barcode(),
            kind=kind.value,
            capacity=10 if kind is TubeKind.POOLED else 1,
            opened_at=now,
            closed_at=now,
        )
        ctx.session.add(tube)
        ctx.session.flush()
        places = dict(
            ctx.session.query(Person.id, Person.jurisdiction_id).filter(Person.id.in_(people)).all()  # type: ignore[arg-type]
        )
        for person_id in people:
            ctx.session.add(
                Sample(person_id=person_id, tube_id=tube.id, kind=sample_kind.value, sampled_at=now, duplicate=False)
            )
        ctx.session.flush()
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.SAMPLED,
                    person_id=p,
                    jurisdiction_id=places[p],
                    subject_type="tube",
                    subject_id=tube.id,
                )
                for p in people
            ],
        )
        if announce:
            on_tubes_opened(ctx, [tube])
        ctx.session.expunge(tube)
    return tube


def result_row(barcode: str, result: str = "negative", **fields: Any) -> dict[str, Any]:
    """One row of a lab export; times are local (Asia/Shanghai), the evening before the drill starts."""
    row: dict[str, Any] = {
        "tube_barcode": barcode,
        "result": result,
        "ct_orf1ab": "",
        "ct_n": "",
        "ct_e": "",
        "lab": LAB,
        "run_id": "RUN-1",
        "received_at": "2021-12-09 20:00",
        "tested_at": "2021-12-09 23:30",
    }
    if result in ("positive", "阳性"):
        row.update(ct_orf1ab="24.5", ct_n="22.1")
    row.update(fields)
    return row


def lab_csv(rows: Iterable[dict[str, Any]], *, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def lab_xlsx(rows: Iterable[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c) for c in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def later(clock: Any, hours: float) -> datetime:
    return clock.advance(timedelta(hours=hours))
