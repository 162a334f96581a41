"""Use cases of isolation (快隔离): sites, their standards and places (`sites`), staff (`staff`), floors,
rooms, reservations and stays (`rooms`), capacity and rooms expected to free (`capacity`), health
monitoring (`health`, `health_alerts`)."""

from bihuan.isolation.service.capacity import capacity, rooms_freeing
from bihuan.isolation.service.checklists import (
    add_template,
    check_history,
    day_sheet,
    install_default_manual,
    open_alerts,
    overdue,
    raise_overdue_alerts,
    record_checks,
    site_manual,
    template_public,
)
from bihuan.isolation.service.health import floor_sheet, record_temperatures
from bihuan.isolation.service.health_alerts import (
    MissingCheck,
    list_alerts,
    missing_measurements,
    raise_missing_alerts,
    resolve_alert,
)
from bihuan.isolation.service.reservations import release_reservation, reserve_rooms
from bihuan.isolation.service.rooms import (
    Admission,
    add_floor,
    admit_people,
    list_floors,
    move_to_room,
)
from bihuan.isolation.service.sites import (
    SiteCapacity,
    admit,
    capacity_for_planning,
    create_site,
    expect_release,
    get_site,
    list_sites,
    reopen,
    report_full,
    set_places,
    sites_at,
    standard_broken,
    update_standards,
)
from bihuan.isolation.service.staff import add_staff, deactivate_staff, list_staff, staff_public
from bihuan.isolation.service.stays import list_stays

__all__ = [
    "Admission",
    "MissingCheck",
    "SiteCapacity",
    "add_floor",
    "add_staff",
    "add_template",
    "admit",
    "admit_people",
    "capacity",
    "capacity_for_planning",
    "check_history",
    "create_site",
    "day_sheet",
    "deactivate_staff",
    "expect_release",
    "floor_sheet",
    "get_site",
    "install_default_manual",
    "list_alerts",
    "list_floors",
    "list_sites",
    "list_staff",
    "list_stays",
    "missing_measurements",
    "move_to_room",
    "open_alerts",
    "overdue",
    "raise_missing_alerts",
    "raise_overdue_alerts",
    "record_checks",
    "record_temperatures",
    "release_reservation",
    "reopen",
    "report_full",
    "reserve_rooms",
    "resolve_alert",
    "rooms_freeing",
    "set_places",
    "site_manual",
    "sites_at",
    "staff_public",
    "standard_broken",
    "template_public",
    "update_standards",
]
