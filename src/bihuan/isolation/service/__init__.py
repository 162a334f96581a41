"""Use cases of isolation (快隔离): sites and their places (`sites`), floors, rooms and stays (`rooms`)."""

from bihuan.isolation.service.rooms import Admission, add_floor, admit_people, list_floors, move_to_room
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
)

__all__ = [
    "Admission",
    "SiteCapacity",
    "add_floor",
    "admit",
    "admit_people",
    "capacity_for_planning",
    "create_site",
    "expect_release",
    "get_site",
    "list_floors",
    "list_sites",
    "move_to_room",
    "reopen",
    "report_full",
    "set_places",
    "sites_at",
]
