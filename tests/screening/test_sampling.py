"""Sampling (采样): tubes by barcode, people scanned in by resident ID, person → tube → pool."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.factories import context, make_district, new_resident_id
from tests.screening.campaign_factories import add_site, cn8, create_round, make_round, register
from tests.screening.test_campaigns import COUNTY_A, county_actor, extra_building, open_tube, scan

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError, Forbidden
from bihuan.core.events import Event
from bihuan.screening.choices import AreaKind, TubeKind
from bihuan.screening.models import Sample, Tube
from bihuan.screening.schemas.campaigns import CampaignCreate, CampaignUnitCreate, TubeOpen
from bihuan.screening.service import campaigns, results, sampling
from bihuan.screening.service.campaigns import campaign_progress


def events_of(database: Database, clock: SimulatedClock, kind: EventKind) -> list[Event]:
    with context(database, clock) as ctx:
        return list(ctx.session.scalars(select(Event).where(Event.kind == kind.value).order_by(Event.id)))


def test_a_tube_closes_at_its_pool_size(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=12, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    outcomes = [scan(database, clock, tube, number) for number in round_.residents_a[:10]]
    assert [o.fill for o in outcomes] == list(range(1, 11))
    assert [o.tube.closed_at is not None for o in outcomes] == [False] * 9 + [True]  # controlled area: 10-in-1
    with pytest.raises(sampling.TubeClosed) as refused:
        scan(database, clock, tube, round_.residents_a[10])
    assert "scan a new tube" in str(refused.value)
    assert (refused.value.fill, refused.value.capacity) == (10, 10)
    with pytest.raises(FieldError) as reopened:
        open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    assert reopened.value.field == "barcode"
    next_tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA2")
    assert scan(database, clock, next_tube, round_.residents_a[10]).fill == 1


def test_a_person_sampled_twice_in_one_round_is_flagged_not_counted(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=3, people_b=1)
    first_tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    second_tube = open_tube(database, clock, round_.campaign, round_.site_b, "TB1")
    person = round_.residents_a[0]
    first = scan(database, clock, first_tube, person)
    clock.advance(timedelta(hours=2))
    again = scan(database, clock, second_tube, person)
    assert (first.sample.duplicate, again.sample.duplicate, again.created) == (False, True, True)
    assert again.fill == 1, "the swab is in the tube all the same"
    sampled = events_of(database, clock, EventKind.SAMPLED)
    duplicates = events_of(database, clock, EventKind.DUPLICATE_SAMPLE)
    assert [e.person_id for e in sampled] == [first.sample.person_id]
    assert [(e.person_id, e.subject_id) for e in duplicates] == [(first.sample.person_id, second_tube)]
    assert duplicates[0].refs["first_tube_id"] == first_tube
    with context(database, clock) as ctx:
        progress = campaign_progress(ctx, round_.campaign)
    assert (progress.sampled, progress.duplicates) == (1, 1)


def test_the_same_scan_sent_again_is_harmless(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    first = scan(database, clock, tube, round_.residents_a[0])
    again = scan(database, clock, tube, round_.residents_a[0].lower())  # a lower-case x is the same number
    assert (first.created, again.created) == (True, False)
    assert again.sample.id == first.sample.id and again.fill == 1
    with context(database, clock) as ctx:
        assert ctx.session.scalar(select(func.count(Sample.id))) == 1
    assert len(events_of(database, clock, EventKind.SAMPLED)) == 1


def test_a_full_tube_still_answers_a_resent_last_scan(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    numbers = register(database, clock, district.building_a, 1, "330604")
    campaign = create_round(database, clock, [(district.building_a, AreaKind.KEY_GROUP)])
    site = add_site(database, clock, campaign, district.building_a, "S1")
    tube = open_tube(database, clock, campaign, site, "K1")
    assert scan(database, clock, tube, numbers[0]).tube.closed_at is not None  # a single tube holds one
    assert scan(database, clock, tube, numbers[0]).created is False


def test_each_sample_links_person_tube_and_round_with_a_sampled_event(
    database: Database, clock: SimulatedClock
) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_b, "TB1")
    outcome = scan(database, clock, tube, round_.residents_b[0])
    sample = outcome.sample
    assert (sample.tube_id, sample.campaign_id, sample.site_id, sample.kind) == (
        tube,
        round_.campaign,
        round_.site_b,
        "screening",
    )
    (event,) = events_of(database, clock, EventKind.SAMPLED)
    assert (event.person_id, event.subject_type, event.subject_id) == (sample.person_id, "tube", tube)
    assert event.jurisdiction_id == round_.district.building_b
    assert event.refs == {"campaign_id": round_.campaign, "site_id": round_.site_b, "sample_id": sample.id}
    assert event.occurred_at == clock.now()


def test_a_county_sampler_cannot_scan_another_countys_resident(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=2)
    sampler = county_actor(Role.COMMUNITY_WORKER, COUNTY_A)
    with context(database, clock, sampler) as ctx:
        tube, _ = sampling.open_tube(ctx, round_.campaign, TubeOpen(site_id=round_.site_a, barcode="TA1"))
        tube_id = tube.id
    with context(database, clock, sampler) as ctx, pytest.raises(sampling.UnknownPerson) as refused:
        sampling.scan_person(ctx, tube_id, round_.residents_b[0])
    assert refused.value.field == "resident_id"
    assert round_.residents_b[0] not in str(refused.value), "the number is masked in the reason"
    with context(database, clock, sampler) as ctx, pytest.raises(FieldError) as elsewhere:
        sampling.open_tube(ctx, round_.campaign, TubeOpen(site_id=round_.site_b, barcode="TB1"))
    assert elsewhere.value.field == "site_id"
    with context(database, clock, sampler) as ctx:
        assert sampling.scan_person(ctx, tube_id, round_.residents_a[0]).created


def test_only_samplers_take_samples(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    with context(database, clock, county_actor(Role.ANALYST)) as ctx, pytest.raises(Forbidden):
        sampling.open_tube(ctx, round_.campaign, TubeOpen(site_id=round_.site_a, barcode="TA1"))


def test_an_invalid_resident_id_is_refused_naming_the_field(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    valid = round_.residents_a[0]
    wrong_check = valid[:-1] + ("1" if valid[-1] != "1" else "2")
    for raw, reason in ((valid[:-1], "18 characters"), (wrong_check, "check digit")):
        with pytest.raises(FieldError) as refused:
            scan(database, clock, tube, raw)
        assert refused.value.field == "resident_id"
        assert reason in refused.value.reason


def test_an_unregistered_person_is_refused_with_a_clear_reason(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    with pytest.raises(sampling.UnknownPerson) as refused:
        scan(database, clock, tube, new_resident_id())
    assert refused.value.field == "resident_id"
    assert "registered" in refused.value.reason


def test_a_person_outside_the_rounds_units_is_refused(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    (outsider,) = register(database, clock, round_.district.community_a, 1, "330604")
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    with pytest.raises(FieldError) as refused:
        scan(database, clock, tube, outsider)
    assert refused.value.field == "resident_id"
    assert "outside the units" in refused.value.reason


def test_a_barcode_already_used_elsewhere_is_refused_with_the_reason(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    first = open_tube(database, clock, round_.campaign, round_.site_a, "ta1")
    with context(database, clock) as ctx:
        resumed, created = sampling.open_tube(ctx, round_.campaign, TubeOpen(site_id=round_.site_a, barcode="TA1"))
    assert (resumed.id, created) == (first, False), "the same open tube at the same site resumes"
    with pytest.raises(FieldError) as refused:
        open_tube(database, clock, round_.campaign, round_.site_b, "TA1")
    assert refused.value.field == "barcode"
    assert "already used" in refused.value.reason and "site SA" in refused.value.reason


def test_single_tube_units_get_single_tubes(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    quarantine = extra_building(database, clock, district.community_a, "330604001001002")
    numbers = register(database, clock, quarantine, 2, "330604")
    campaign = create_round(database, clock, [(quarantine, AreaKind.QUARANTINE_SITE)])
    site = add_site(database, clock, campaign, quarantine, "Q1")
    with context(database, clock) as ctx:
        tube, _ = sampling.open_tube(ctx, campaign, TubeOpen(site_id=site, barcode="Q-1"))
        assert (tube.kind, tube.capacity) == (TubeKind.SINGLE.value, 1)
        with pytest.raises(FieldError) as refused:
            sampling.open_tube(ctx, campaign, TubeOpen(site_id=site, barcode="Q-2", kind=TubeKind.POOLED))
        assert refused.value.field == "kind"
        tube_id = tube.id
    assert scan(database, clock, tube_id, numbers[0]).tube.closed_at is not None
    with pytest.raises(sampling.TubeClosed):
        scan(database, clock, tube_id, numbers[1])


def test_a_sampler_may_ask_for_a_single_tube_in_a_pooled_unit(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    with context(database, clock) as ctx:
        tube, _ = sampling.open_tube(
            ctx, round_.campaign, TubeOpen(site_id=round_.site_a, barcode="S1", kind=TubeKind.SINGLE)
        )
        assert (tube.kind, tube.capacity) == ("single", 1)


def test_a_sampler_may_close_a_tube_early(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=3, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    scan(database, clock, tube, round_.residents_a[0])
    clock.advance(timedelta(minutes=30))
    with context(database, clock) as ctx:
        closed = sampling.close_tube(ctx, tube)
        assert closed.closed_at == clock.now()
        assert sampling.tube_public(ctx, closed).fill == 1
        assert sampling.close_tube(ctx, tube).closed_at == clock.now()
    with pytest.raises(sampling.TubeClosed):
        scan(database, clock, tube, round_.residents_a[1])


def test_sampling_waits_for_the_round_to_start(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    register(database, clock, district.building_a, 1, "330604")
    data = CampaignCreate(
        code="LATER",
        name="明天",
        starts_at=clock.now() + timedelta(hours=12),
        units=[CampaignUnitCreate(jurisdiction_id=district.building_a, area_kind=AreaKind.CONTROLLED)],
    )
    with context(database, clock) as ctx:
        campaign = campaigns.create_campaign(ctx, data, cn8()).id
    site = add_site(database, clock, campaign, district.building_a, "S1")
    with pytest.raises(Conflict):
        open_tube(database, clock, campaign, site, "T1")
    clock.advance(timedelta(hours=12))
    assert open_tube(database, clock, campaign, site, "T1")


def test_opening_and_closing_a_tube_hand_it_to_lab_results(
    database: Database, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    handed: list[list[str]] = []
    monkeypatch.setattr(results, "on_tubes_opened", lambda ctx, tubes: handed.append([t.barcode for t in tubes]))
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    assert handed == [["TA1"]]
    with context(database, clock) as ctx:
        sampling.close_tube(ctx, tube)
    assert handed == [["TA1"], ["TA1"]]


def test_a_tubes_samples_are_listed_with_masked_ids(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    for number in round_.residents_a:
        scan(database, clock, tube, number)
    with context(database, clock) as ctx:
        rows = sampling.tube_samples(ctx, tube)
        stored = ctx.session.get(Tube, tube)
    assert [r.resident_id_masked for r in rows] == [f"{n[:4]}**********{n[-4:]}" for n in round_.residents_a]
    assert stored is not None and stored.closed_at is None
