"""Sampling (采样): tubes by barcode, people scanned into them by resident ID, person → tube → pool.

A tube holds its unit's pool size (N-in-1, 混采) and closes when full or when the sampler closes
it. A person sampled a second time in one round is stored as a duplicate (flagged, with a
`duplicate_sample` event) and not counted; the same scan sent twice stores nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id, parse_resident_id
from bihuan.people.models import Jurisdiction, Person
from bihuan.screening.choices import SampleKind, TubeKind
from bihuan.screening.models import Campaign, Sample, SamplingSite, Tube
from bihuan.screening.schemas.campaigns import SamplePublic, ScanPublic, TubeOpen, TubePublic
from bihuan.screening.service import campaigns, results


class TubeClosed(Conflict):
    """The tube is closed (full, or closed by the sampler): the next scan needs a new tube."""

    def __init__(self, tube: Tube, fill: int) -> None:
        super().__init__(f"tube {tube.barcode} is closed ({fill}/{tube.capacity}): scan a new tube")
        self.barcode = tube.barcode
        self.fill = fill
        self.capacity = tube.capacity


class UnknownPerson(FieldError):
    """No person with this resident ID in the register of the sampler's jurisdiction."""

    def __init__(self, number: str) -> None:
        super().__init__(
            "resident_id",
            f"no person with resident ID {mask_resident_id(number)} is registered in your jurisdiction",
        )


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What one scan did; `created` is False when the same scan was already stored."""

    sample: Sample
    tube: Tube
    fill: int
    created: bool


# -- tubes -----------------------------------------------------------------------------------------------


def _fill(ctx: Ctx, tube_id: int) -> int:
    return ctx.session.scalar(select(func.count(Sample.id)).where(Sample.tube_id == tube_id)) or 0


def tube_public(ctx: Ctx, tube: Tube, fill: int | None = None) -> TubePublic:
    return TubePublic(
        id=tube.id,
        barcode=tube.barcode,
        kind=TubeKind(tube.kind),
        capacity=tube.capacity,
        fill=_fill(ctx, tube.id) if fill is None else fill,
        campaign_id=tube.campaign_id,
        site_id=tube.site_id,
        opened_at=tube.opened_at,
        closed_at=tube.closed_at,
    )


def get_tube(ctx: Ctx, tube_id: int, *, for_update: bool = False) -> Tube:
    """A round's tube at a site in the actor's subtree (locked for the scan on PostgreSQL)."""
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt = (
        select(Tube)
        .join(SamplingSite, SamplingSite.id == Tube.site_id)
        .where(Tube.id == tube_id, campaigns.in_subtree(ctx, SamplingSite.jurisdiction_id))
    )
    if for_update:
        stmt = stmt.with_for_update(of=Tube)
    tube = ctx.session.scalar(stmt)
    if tube is None:
        raise NotFound(f"tube {tube_id} not found")
    return tube


def _refuse_used_barcode(ctx: Ctx, used: Tube, site: SamplingSite) -> Tube:
    """A barcode seen before: the same open tube at the same site resumes; anything else is refused."""
    if used.site_id == site.id and used.campaign_id == site.campaign_id:
        if used.closed_at is None:
            return used
        raise FieldError(
            "barcode", f"tube {used.barcode} is already closed ({_fill(ctx, used.id)}/{used.capacity}): scan a new tube"
        )
    where = ""
    if used.campaign_id is not None:
        row = ctx.session.execute(
            select(Campaign.code, SamplingSite.code)
            .select_from(Tube)
            .join(Campaign, Campaign.id == Tube.campaign_id)
            .outerjoin(SamplingSite, SamplingSite.id == Tube.site_id)
            .where(Tube.id == used.id)
        ).first()
        if row is not None:
            where = f" (campaign {row[0]}, site {row[1] or '-'})"
    raise FieldError("barcode", f"barcode {used.barcode} is already used by another tube{where}")


def open_tube(ctx: Ctx, campaign_id: int, data: TubeOpen) -> tuple[Tube, bool]:
    """Open a tube at a site by its barcode; capacity is the unit's pool size (1 for a single tube).

    Scanning the barcode of a tube already open at this site resumes it (returns it with False).
    """
    require(ctx.actor, Permission.SAMPLE)
    campaign = campaigns.get_campaign(ctx, campaign_id)
    campaigns.require_running(ctx, campaign)
    site = campaigns.get_site(ctx, data.site_id)
    if site.campaign_id != campaign.id:
        raise FieldError("site_id", f"site {site.code} belongs to another campaign")
    barcode = data.barcode.strip().upper()
    used = ctx.session.scalar(select(Tube).where(Tube.barcode == barcode))
    if used is not None:
        return _refuse_used_barcode(ctx, used, site), False
    unit = campaigns.unit_of_place(ctx, campaign.id, site.jurisdiction_id)
    if unit is None:  # a site is created inside a unit; only a changed register could get here
        raise FieldError("site_id", f"site {site.code} is not inside any unit of campaign {campaign.code}")
    kind = data.kind or (TubeKind.POOLED if unit.pool_size > 1 else TubeKind.SINGLE)
    if kind is TubeKind.POOLED and unit.pool_size == 1:
        raise FieldError("kind", f"the unit is sampled by single tube ({unit.area_kind.value}): no pooled tubes")
    tube = Tube(
        barcode=barcode,
        kind=kind.value,
        capacity=unit.pool_size if kind is TubeKind.POOLED else 1,
        campaign_id=campaign.id,
        site_id=site.id,
        opened_at=ctx.clock.now(),
        closed_at=None,
    )
    ctx.session.add(tube)
    ctx.session.flush()
    results.on_tubes_opened(ctx, [tube])
    return tube, True


def close_tube(ctx: Ctx, tube_id: int) -> Tube:
    """The sampler closes a tube before it is full (end of a queue, end of a shift). Twice is harmless.

    Closing hands the tube to results again (`on_tubes_opened` is safe to repeat), so a result
    matched while it was still filling reaches the members added since.
    """
    require(ctx.actor, Permission.SAMPLE)
    tube = get_tube(ctx, tube_id, for_update=True)
    if tube.closed_at is None:
        tube.closed_at = ctx.clock.now()
        ctx.session.flush()
        results.on_tubes_opened(ctx, [tube])
    return tube


# -- scanning people into a tube -------------------------------------------------------------------------


def _person_in_scope(ctx: Ctx, raw: str) -> tuple[int, int, str, str]:
    number = parse_resident_id(raw, field="resident_id", today=ctx.clock.now().date()).number
    stmt = (
        select(Person.id, Person.jurisdiction_id, Jurisdiction.path, Person.name)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .where(Person.resident_id == number, campaigns.in_subtree(ctx, Person.jurisdiction_id))
    )
    row = ctx.session.execute(stmt).first()
    if row is None:
        raise UnknownPerson(number)
    return row[0], row[1], row[2], row[3]


def scan_person(ctx: Ctx, tube_id: int, resident_id: str) -> ScanOutcome:
    """Swab one person into the tube (`sampled`); a second swab in the round is a flagged duplicate.

    Refused: an invalid or unknown resident ID (FieldError on resident_id), a person outside the
    round's units, a closed tube (TubeClosed). The tube closes when it holds its pool size.
    """
    require(ctx.actor, Permission.SAMPLE)
    tube = get_tube(ctx, tube_id, for_update=True)
    if tube.campaign_id is None or tube.site_id is None:
        raise NotFound(f"tube {tube_id} not found")
    campaign = campaigns.get_campaign(ctx, tube.campaign_id)
    person_id, home_id, home_path, _name = _person_in_scope(ctx, resident_id)
    again = ctx.session.scalar(select(Sample).where(Sample.tube_id == tube.id, Sample.person_id == person_id))
    if again is not None:
        return ScanOutcome(again, tube, _fill(ctx, tube.id), created=False)
    fill = _fill(ctx, tube.id)
    if tube.closed_at is not None:
        raise TubeClosed(tube, fill)
    campaigns.require_running(ctx, campaign)
    if campaigns.unit_of_path(ctx, campaign.id, home_path) is None:
        raise FieldError("resident_id", f"this person is registered outside the units of campaign {campaign.code}")
    first = ctx.session.scalar(
        select(Sample)
        .where(
            Sample.campaign_id == campaign.id,
            Sample.person_id == person_id,
            Sample.kind == SampleKind.SCREENING.value,
            Sample.duplicate.is_(False),
        )
        .limit(1)
    )
    now = ctx.clock.now()
    sample = Sample(
        person_id=person_id,
        tube_id=tube.id,
        campaign_id=campaign.id,
        site_id=tube.site_id,
        kind=SampleKind.SCREENING.value,
        sampled_at=now,
        duplicate=first is not None,
        retest_id=None,
    )
    ctx.session.add(sample)
    fill += 1
    if fill >= tube.capacity:
        tube.closed_at = now
    ctx.session.flush()
    if tube.closed_at is not None:  # a result that came before the tube filled now reaches every member
        results.on_tubes_opened(ctx, [tube])
    refs = {"campaign_id": campaign.id, "site_id": tube.site_id, "sample_id": sample.id}
    payload: dict[str, object] = {"barcode": tube.barcode, "tube_kind": tube.kind, "fill": fill}
    if first is not None:
        refs["first_sample_id"] = first.id
        refs["first_tube_id"] = first.tube_id
    record(
        ctx,
        EventKind.DUPLICATE_SAMPLE if first is not None else EventKind.SAMPLED,
        person_id=person_id,
        jurisdiction_id=home_id,
        subject_type="tube",
        subject_id=tube.id,
        refs=refs,
        payload=payload,
    )
    return ScanOutcome(sample, tube, fill, created=True)


def scan_public(ctx: Ctx, outcome: ScanOutcome) -> ScanPublic:
    sample = tube_samples(ctx, outcome.tube.id, sample_id=outcome.sample.id)[0]
    return ScanPublic(created=outcome.created, sample=sample, tube=tube_public(ctx, outcome.tube, outcome.fill))


def tube_samples(ctx: Ctx, tube_id: int, *, sample_id: int | None = None) -> list[SamplePublic]:
    """The swabs in a tube, in the order taken, with masked resident IDs (one query)."""
    tube = get_tube(ctx, tube_id)
    stmt = (
        select(Sample, Person.name, Person.resident_id)
        .join(Person, Person.id == Sample.person_id)
        .where(Sample.tube_id == tube.id)
        .order_by(Sample.id)
    )
    if sample_id is not None:
        stmt = stmt.where(Sample.id == sample_id)
    return [
        SamplePublic(
            id=sample.id,
            person_id=sample.person_id,
            person_name=name,
            resident_id_masked=mask_resident_id(number) if number else None,
            tube_id=sample.tube_id,
            site_id=sample.site_id,
            sampled_at=sample.sampled_at,
            duplicate=sample.duplicate,
        )
        for sample, name, number in ctx.session.execute(stmt)
    ]
