"""Enumerations of the register (人员库)."""

from __future__ import annotations

from enum import StrEnum

from bihuan.protocol.choices import VenueKind

__all__ = ["ImportKind", "JurisdictionLevel", "Sex", "VenueKind"]


class JurisdictionLevel(StrEnum):
    """The command tree, province down to the building, the minimum unit (最小单元)."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    STREET = "street"
    COMMUNITY = "community"
    BUILDING = "building"

    @property
    def depth(self) -> int:
        return list(JurisdictionLevel).index(self)


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class ImportKind(StrEnum):
    PERSONS = "persons"
