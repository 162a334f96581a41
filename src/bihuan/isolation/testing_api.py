"""HTTP API of tests at sites (隔离点核酸检测): the day's tests, a test taken as tubes, a person's tests."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.core.deps import UserCtx, ZoneDep
from bihuan.isolation.service import testing
from bihuan.isolation.testing_schemas import SamplesIn, SiteTestPublic, SiteTestsDue, SiteTestsPublic
from bihuan.people.schemas import Page

router = APIRouter(prefix="/api/sites", tags=["isolation"])
PageDep = Annotated[Page, Depends()]


@router.get("/{site_id}/tests")
def tests_due(
    ctx: UserCtx,
    zone: ZoneDep,
    page: PageDep,
    site_id: int,
    day: date | None = None,
    floor_id: int | None = None,
    include_overdue: bool = True,
) -> SiteTestsDue:
    """The tests to take on the local day (today unless given), overdue ones too, by floor and room."""
    on = day or ctx.clock.now().astimezone(zone).date()
    return testing.tests_due(ctx, site_id, on, floor_id=floor_id, include_overdue=include_overdue, page=page)


@router.post("/{site_id}/tests/{test_id}/samples")
def sample_test(ctx: UserCtx, zone: ZoneDep, site_id: int, test_id: int, data: SamplesIn) -> SiteTestPublic:
    """Take a test as single tubes (a release test: its samples, for its reagents); the same tubes again
    change nothing; a used barcode or a missing tube or reagent is refused naming ``tubes[i]``."""
    return testing.sample_test(ctx, site_id, test_id, data.tubes, zone=zone)


@router.get("/{site_id}/stays/{stay_id}/tests")
def tests_of_stay(ctx: UserCtx, zone: ZoneDep, site_id: int, stay_id: int) -> SiteTestsPublic:
    """A person's tests at the site, by day, with their tubes and results."""
    tests = testing.tests_of_stay(ctx, stay_id, site_id=site_id, today=ctx.clock.now().astimezone(zone).date())
    return SiteTestsPublic(data=tests, count=len(tests))
