"""A site's staff (隔离点工作人员): managers, medical, sampling, security, cleaning and liaison staff.

Phones are checked by the register's rules and shown masked. A member who leaves is deactivated,
never deleted: the checklists and tests they signed keep naming them.
"""

from __future__ import annotations

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_phone
from bihuan.isolation.models import SiteStaff
from bihuan.isolation.schemas import StaffCreate, StaffListPublic, StaffPublic
from bihuan.isolation.service.sites import get_site
from bihuan.people.validation import normalise_phone


def add_staff(ctx: Ctx, site_id: int, data: StaffCreate) -> SiteStaff:
    """Add a member of staff; the same name, role and phone again (still active) is the same member."""
    require(ctx.actor, Permission.MANAGE_SITES)
    get_site(ctx, site_id)
    phone = normalise_phone(data.phone) if data.phone.strip() else ""
    same = ctx.session.scalar(
        select(SiteStaff).where(
            SiteStaff.site_id == site_id,
            SiteStaff.name == data.name,
            SiteStaff.role == data.role.value,
            SiteStaff.phone == phone,
            SiteStaff.active.is_(True),
        )
    )
    if same is not None:
        return same
    member = SiteStaff(
        site_id=site_id, name=data.name, role=data.role.value, phone=phone, active=True, created_at=ctx.clock.now()
    )
    ctx.session.add(member)
    ctx.session.flush()
    _record(ctx, member, "staff_added")
    return member


def deactivate_staff(ctx: Ctx, site_id: int, staff_id: int) -> SiteStaff:
    """A member who left the site; deactivating them again is harmless."""
    require(ctx.actor, Permission.MANAGE_SITES)
    member = ctx.session.get(SiteStaff, staff_id)
    if member is None or member.site_id != site_id:
        raise NotFound(f"staff {staff_id} not found at this site")
    if member.active:
        member.active = False
        _record(ctx, member, "staff_deactivated")
    return member


def list_staff(ctx: Ctx, site_id: int, *, active_only: bool = True) -> StaffListPublic:
    """A site's staff by role and name, phones masked, with the active members counted by role."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    members = list(
        ctx.session.scalars(
            select(SiteStaff).where(SiteStaff.site_id == site_id).order_by(SiteStaff.role, SiteStaff.name, SiteStaff.id)
        )
    )
    shown = [m for m in members if m.active or not active_only]
    by_role: dict[str, int] = {}
    for member in members:
        if member.active:
            by_role[member.role] = by_role.get(member.role, 0) + 1
    return StaffListPublic.model_validate(
        {"data": [staff_public(m) for m in shown], "count": len(shown), "by_role": by_role}
    )


def staff_public(member: SiteStaff) -> StaffPublic:
    return StaffPublic.model_validate(
        {
            "id": member.id,
            "site_id": member.site_id,
            "name": member.name,
            "role": member.role,
            "phone_masked": mask_phone(member.phone) if member.phone else "",
            "active": member.active,
            "created_at": member.created_at,
        }
    )


def _record(ctx: Ctx, member: SiteStaff, change: str) -> None:
    record(
        ctx,
        EventKind.SITE_UPDATED,
        subject_type="site",
        subject_id=member.site_id,
        payload={change: member.id, "role": member.role},
    )
