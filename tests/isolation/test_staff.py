"""A site's staff (工作人员): added with a checked phone, listed masked, deactivated, counted by role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import context, login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import SHANGYU, add_site

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError, NotFound
from bihuan.isolation import service as sites
from bihuan.isolation.choices import StaffRole
from bihuan.isolation.schemas import StaffCreate
from bihuan.protocol import TransferCategory

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _site(database: Database, clock: SimulatedClock) -> int:
    return add_site(database, clock, "百官隔离酒店", SHANGYU, {TransferCategory.CLOSE_CONTACT: 10})


def test_staff_are_listed_by_role_with_phones_masked_and_a_deactivated_member_is_no_longer_counted(
    database: Database, clock: SimulatedClock
) -> None:
    site = _site(database, clock)
    with context(database, clock) as ctx:
        doctor = sites.add_staff(ctx, site, StaffCreate(name="李医生", role=StaffRole.MEDICAL, phone="138 0013 8000"))
        sites.add_staff(ctx, site, StaffCreate(name="张护士", role=StaffRole.MEDICAL, phone="13900139000"))
        sites.add_staff(ctx, site, StaffCreate(name="王保安", role=StaffRole.SECURITY))
        sites.add_staff(ctx, site, StaffCreate(name="李医生", role=StaffRole.MEDICAL, phone="13800138000"))  # again
        doctor_id = doctor.id
    with context(database, clock) as ctx:
        before = sites.list_staff(ctx, site)
        sites.deactivate_staff(ctx, site, doctor_id)
        sites.deactivate_staff(ctx, site, doctor_id)
    with context(database, clock) as ctx:
        after = sites.list_staff(ctx, site)
        everyone = sites.list_staff(ctx, site, active_only=False)
        [shown] = [s for s in sites.list_sites(ctx) if s.id == site]

    assert before.count == 3 and before.by_role == {StaffRole.MEDICAL: 2, StaffRole.SECURITY: 1}
    assert {m.name: m.phone_masked for m in before.data}["李医生"] == "138****8000"
    assert [m.name for m in after.data] == ["张护士", "王保安"]
    assert [(m.name, m.active) for m in everyone.data if m.id == doctor_id] == [("李医生", False)]
    assert shown.staff == {StaffRole.MEDICAL: 1, StaffRole.SECURITY: 1}


def test_a_bad_phone_is_refused_naming_the_field_and_nobody_is_added(database: Database, clock: SimulatedClock) -> None:
    site = _site(database, clock)
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.add_staff(ctx, site, StaffCreate(name="赵师傅", role=StaffRole.CLEANING, phone="1380013"))
    assert refused.value.field == "phone" and "1380013" in refused.value.reason
    with context(database, clock) as ctx:
        assert sites.list_staff(ctx, site).count == 0


def test_staff_of_another_site_cannot_be_deactivated_from_this_one(database: Database, clock: SimulatedClock) -> None:
    site, other = _site(database, clock), _site(database, clock)
    with context(database, clock) as ctx:
        member = sites.add_staff(ctx, other, StaffCreate(name="陈联络员", role=StaffRole.LIAISON))
    with context(database, clock) as ctx, pytest.raises(NotFound):
        sites.deactivate_staff(ctx, site, member.id)


def test_a_site_manager_adds_lists_and_deactivates_staff_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    site = _site(database, clock)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, district.county_a))
    analyst = login(client, make_user(database, clock, Role.ANALYST, district.county_a))
    member = {"name": "刘采样员", "role": "sampling", "phone": "13700137000"}

    added = client.post(f"/api/sites/{site}/staff", json=member, headers=manager)
    refused = client.post(f"/api/sites/{site}/staff", json=member, headers=analyst)
    bad = client.post(f"/api/sites/{site}/staff", json=member | {"phone": "12"}, headers=manager)
    gone = client.post(f"/api/sites/{site}/staff/{added.json()['id']}/deactivate", headers=manager)
    listed = client.get(f"/api/sites/{site}/staff", params={"active_only": False}, headers=analyst)

    assert added.status_code == 201, added.text
    assert (refused.status_code, bad.status_code, gone.status_code) == (403, 422, 200)
    assert "phone" in bad.text
    assert [(m["name"], m["phone_masked"], m["active"]) for m in listed.json()["data"]] == [
        ("刘采样员", "137****7000", False)
    ]
