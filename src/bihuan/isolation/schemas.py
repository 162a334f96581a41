"""API shapes of isolation sites: one schema family per entity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bihuan.isolation.choices import SiteStatus, StaffRole
from bihuan.protocol import DestinationKind, TransferCategory


class PlacesIn(BaseModel):
    category: TransferCategory
    places: int = Field(ge=0, le=100_000)
    occupied: int = Field(0, ge=0, le=100_000)


class SiteCreate(BaseModel):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    name: str = Field(min_length=1, max_length=128)
    kind: DestinationKind
    city: str = Field(min_length=1, max_length=64)
    address_text: str = Field("", max_length=255)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    # Standards (隔离点设置标准): a central quarantine site the profile's standards forbid is refused.
    three_zones_two_channels: bool = True  # 三区两通道
    central_air_conditioning: bool = False  # 集中空调
    places: list[PlacesIn] = Field(min_length=1)

    @field_validator("places")
    @classmethod
    def _each_category_once(cls, places: list[PlacesIn]) -> list[PlacesIn]:
        seen: set[str] = set()
        for item in places:
            if item.category in seen:
                raise ValueError(f"category {item.category} is listed twice")
            seen.add(item.category)
        return places


class SiteStandardsUpdate(BaseModel):
    """The standards found at a site on inspection; a field left out keeps its value."""

    three_zones_two_channels: bool | None = None
    central_air_conditioning: bool | None = None


class ExpectedReleaseIn(BaseModel):
    category: TransferCategory
    on_date: date
    places: int = Field(ge=0, le=100_000)


class SiteFullReport(BaseModel):
    reason: str = Field("", max_length=255)


class PlacesPublic(BaseModel):
    category: TransferCategory
    places: int
    occupied: int
    free: int
    releasing: int  # places expected to free after today (up to the date asked, else all pending)


class SitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: DestinationKind
    city: str
    address_text: str
    lat: float
    lon: float
    status: SiteStatus
    status_reason: str
    three_zones_two_channels: bool
    central_air_conditioning: bool
    updated_at: datetime
    places: list[PlacesPublic]
    staff: dict[StaffRole, int] = Field(default_factory=dict)  # active staff by role


class SitesPublic(BaseModel):
    data: list[SitePublic]
    count: int


class RoomIn(BaseModel):
    number: str = Field(min_length=1, max_length=16)
    private_bathroom: bool = True
    accessible: bool = False
    # Door order along the corridor (rooms next to each other differ by one; the same position on
    # the floors above and below is the room over or under it). Default: the room's place in the list.
    position: int | None = Field(None, ge=0, le=10_000)


class FloorCreate(BaseModel):
    """A floor (or wing) of one category with its rooms: ``rooms`` or ``room_count`` numbered 01, 02, ..."""

    building: str = Field(min_length=1, max_length=32)
    number: int = Field(ge=-5, le=200)
    category: TransferCategory
    rooms: list[RoomIn] = Field(default_factory=list, max_length=500)
    room_count: int = Field(0, ge=0, le=500)

    @model_validator(mode="after")
    def _rooms_or_count(self) -> FloorCreate:
        if self.rooms and self.room_count:
            raise ValueError("give rooms or room_count, not both")
        if not self.rooms:
            if not self.room_count:
                raise ValueError("a floor needs rooms (rooms or room_count)")
            self.rooms = [RoomIn(number=f"{self.number}{i:02d}") for i in range(1, self.room_count + 1)]
        return self


class FloorPublic(BaseModel):
    id: int
    building: str
    number: int
    category: TransferCategory
    free: int
    occupied: int
    reserved: int
    out_of_service: int


class RoomReserve(BaseModel):
    """Hold rooms for someone (预留): `count` free rooms of a floor, or the rooms named.

    With a floor, `count` is how many of its rooms are to be held for `reserved_for` in all, so the
    same request sent again reserves nothing more.
    """

    floor_id: int | None = Field(None, ge=1)
    room_ids: list[int] = Field(default_factory=list, max_length=500)
    count: int = Field(0, ge=0, le=500)
    reserved_for: str = Field(min_length=1, max_length=128)

    @model_validator(mode="after")
    def _floor_or_rooms(self) -> RoomReserve:
        if (self.floor_id is None) == (not self.room_ids):
            raise ValueError("give floor_id (with count) or room_ids, not both")
        if self.floor_id is not None and not self.count:
            raise ValueError("count: how many rooms of the floor to reserve")
        return self


class ReservationRelease(BaseModel):
    """Give back reserved rooms: every room held for `reserved_for`, or the rooms named."""

    reserved_for: str = Field("", max_length=128)
    room_ids: list[int] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _whose_or_which(self) -> ReservationRelease:
        if bool(self.reserved_for) == bool(self.room_ids):
            raise ValueError("give reserved_for or room_ids, not both")
        return self


class RoomMove(BaseModel):
    room_id: int = Field(ge=1)


class StayPublic(BaseModel):
    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    category: TransferCategory
    room: str | None  # "A-3-301": building, floor, room
    carer_for: int | None
    started_at: datetime
    last_exposure: date | None
    central_end: date | None  # the last day of central quarantine by the plan
    next_test: date | None  # the plan's next test day from today
    plan: dict[str, Any]


class StaysPublic(BaseModel):
    data: list[StayPublic]
    count: int


class StaffCreate(BaseModel):
    """A member of a site's staff; the phone is checked by the register's rules (mainland mobile or E.164)."""

    name: str = Field(min_length=1, max_length=64)
    role: StaffRole
    phone: str = Field("", max_length=32)


class StaffPublic(BaseModel):
    id: int
    site_id: int
    name: str
    role: StaffRole
    phone_masked: str
    active: bool
    created_at: datetime


class StaffListPublic(BaseModel):
    data: list[StaffPublic]
    count: int
    by_role: dict[StaffRole, int]  # active staff


class DayFree(BaseModel):
    """One day ahead: rooms (places) expected to free that day, and free that day counting them."""

    on: date
    freeing: int
    free: int


class CapacityCounts(BaseModel):
    """Rooms of one category: free, occupied, reserved, out of service, and free expected per day.

    At a site counted without rooms, its places: free and occupied (never reserved or out of service).
    """

    category: TransferCategory
    free: int
    occupied: int
    reserved: int
    out_of_service: int
    expected: list[DayFree]


class SiteCategoryCapacity(CapacityCounts):
    by_rooms: bool  # counted from the site's rooms (else from the places it reports)


class SiteCapacityPublic(BaseModel):
    id: int
    code: str
    name: str
    kind: DestinationKind
    city: str
    status: SiteStatus
    categories: list[SiteCategoryCapacity]


class CityCapacityPublic(BaseModel):
    city: str
    categories: list[CapacityCounts]


class CapacityPublic(BaseModel):
    """Capacity (床位) by site, by city and by category, over every site whatever its status."""

    days: list[date]
    sites: list[SiteCapacityPublic]
    cities: list[CityCapacityPublic]
    categories: list[CapacityCounts]
