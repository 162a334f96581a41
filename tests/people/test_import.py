"""Bulk import of persons (批量导入): every good row stored, every bad row reported, idempotent, all or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from tests.factories import District, login, make_district, make_user
from tests.people.scenario import make_two_counties

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.core.import_reports import ImportReport
from bihuan.core.resident_id import check_character, make_resident_id
from bihuan.people import importer
from bihuan.people.models import Person

Headers = dict[str, str]
HEADER = ["resident_id", "name", "sex", "birth_date", "phone", "jurisdiction_code", "household_code"]
BUILDING_A = "330604001001001"  # 上虞区 › 百官街道 › 龙山社区 › 1幢
BUILDING_B = "330602001001001"  # 越城区, the other county
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def person(i: int, *, code: str = BUILDING_A, region: str = "330604") -> dict[str, str]:
    """Person number i: a distinct birth date per i, so every resident ID in a file is unique."""
    birth = date(1940, 1, 1) + timedelta(days=i)
    sex = "M" if i % 2 else "F"
    return {
        "resident_id": make_resident_id(region, birth, i % 500, sex),
        "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)],
        "sex": "男" if sex == "M" else "女",
        "birth_date": birth.isoformat() if i % 3 == 0 else "",
        "phone": f"138{i:08d}" if i % 4 == 0 else "",
        "jurisdiction_code": code,
        "household_code": f"HH-{i // 3}" if i % 5 == 0 else "",
    }


@dataclass
class Sheet:
    """A file being written: the good rows, and the bad ones with the field and reason we expect."""

    lines: list[list[str]] = field(default_factory=lambda: [HEADER])
    good: list[dict[str, str]] = field(default_factory=list)
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)

    def add(self, row: dict[str, str]) -> None:
        self.good.append(row)
        self.lines.append([row[c] for c in HEADER])

    def add_bad(self, row: dict[str, str] | list[str], field_: str, reason: str) -> int:
        self.lines.append([row[c] for c in HEADER] if isinstance(row, dict) else row)
        number = len(self.lines)  # the header is row 1, as a spreadsheet shows it
        self.bad[number] = (field_, reason)
        return number

    def csv(self, encoding: str = "utf-8") -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(self.lines)
        return buffer.getvalue().encode(encoding)

    def xlsx(self) -> bytes:
        book = Workbook()
        sheet = book.active
        for line in self.lines:
            sheet.append([value or None for value in line])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


def with_bad_rows(count: int) -> Sheet:
    """count good persons with one of every kind of malformed row mixed in."""
    sheet = Sheet()
    bad_makers = {
        count // 9: lambda p: sheet.add_bad(
            p | {"resident_id": p["resident_id"][:17] + ("0" if p["resident_id"][17] != "0" else "1")},
            "resident_id",
            f"expected {p['resident_id'][17]}",
        ),
        count // 8: lambda p: sheet.add_bad(
            p | {"resident_id": _with_date(p["resident_id"], "19850230"), "birth_date": ""},
            "resident_id",
            "19850230 is not a real date",
        ),
        count // 7: lambda p: sheet.add_bad(p | {"birth_date": "1985-02-30"}, "birth_date", "is not a date"),
        count // 6: lambda p: sheet.add_bad(p | {"name": "  "}, "name", "is required"),
        count // 5: lambda p: sheet.add_bad(p | {"jurisdiction_code": ""}, "jurisdiction_code", "is required"),
        count // 4: lambda p: sheet.add_bad(
            p | {"jurisdiction_code": "999999"}, "jurisdiction_code", "999999 is unknown"
        ),
        count // 3: lambda p: sheet.add_bad(
            [p["resident_id"], p["name"], p["sex"]], "row", "has 3 columns, the header has 7"
        ),
        count // 2: lambda p: sheet.add_bad(p | {"sex": "未知"}, "sex", "is not one of"),
        count - 1: lambda p: sheet.add_bad(p | {"phone": "12345"}, "phone", "not"),
    }
    for i in range(count):
        sheet.add(person(i))
        if i in bad_makers:
            bad_makers[i](person(count + i))
    first_row_of = {row["resident_id"]: n for n, row in enumerate(sheet.good, start=2)}
    duplicate = sheet.good[count // 10]
    sheet.add_bad(duplicate | {"name": "重复"}, "resident_id", "the same person as row")
    assert first_row_of  # the duplicate's first row is somewhere above it
    return sheet


def _with_date(number: str, yyyymmdd: str) -> str:
    first17 = number[:6] + yyyymmdd + number[14:17]
    return first17 + check_character(first17)


@pytest.fixture
def district(database: Database, clock: SimulatedClock) -> District:
    return make_district(database, clock)


@pytest.fixture
def county_a(client: TestClient, database: Database, clock: SimulatedClock, district: District) -> Headers:
    """A commander of 上虞区 (county A), who may import."""
    return login(client, make_user(database, clock, Role.COMMANDER, district.county_a, username="shangyu"))


def upload(client: TestClient, headers: Headers, content: bytes, filename: str = "persons.csv") -> dict[str, Any]:
    response = client.post("/api/persons/import", files={"file": (filename, content)}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def persons_stored(database: Database) -> dict[str, Person]:
    with database.session() as session:
        return {p.resident_id: p for p in session.scalars(select(Person))}


def count_events(database: Database, kind: EventKind) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind.value)) or 0


def assert_report(report: dict[str, Any], sheet: Sheet) -> None:
    """Every good row created, every bad row reported with its row number, field and reason."""
    assert report["status"] == "completed"
    assert report["rows_created"] == len(sheet.good)
    assert report["rows_rejected"] == len(sheet.bad)
    assert report["rows_total"] == len(sheet.good) + len(sheet.bad)
    reported = {e["row"]: (e["field"], e["reason"]) for e in report["errors"]}
    assert sorted(reported) == sorted(sheet.bad)
    for row, (field_, reason) in sheet.bad.items():
        assert reported[row][0] == field_, (row, reported[row])
        assert reason in reported[row][1], (row, reported[row])


def test_ten_thousand_rows_with_bad_ones_mixed_in(
    client: TestClient, database: Database, county_a: Headers, district: District
) -> None:
    sheet = with_bad_rows(10_000)
    report = upload(client, county_a, sheet.csv())
    assert_report(report, sheet)
    stored = persons_stored(database)
    assert len(stored) == 10_000
    for row in sheet.good[::997]:
        kept = stored[row["resident_id"]]
        assert (kept.name, kept.jurisdiction_id) == (row["name"], district.building_a)
        assert kept.phone == (row["phone"] or None)
    assert count_events(database, EventKind.PERSON_CREATED) == 10_000
    assert client.get(f"/api/imports/{report['id']}", headers=county_a).json() == report


def test_the_same_file_again_creates_nothing(client: TestClient, database: Database, county_a: Headers) -> None:
    sheet = with_bad_rows(300)
    content = sheet.csv()
    first = upload(client, county_a, content)
    again = upload(client, county_a, content)
    assert (again["rows_created"], again["rows_updated"], again["rows_unchanged"]) == (0, 0, len(sheet.good))
    assert again["errors"] == first["errors"]
    assert len(persons_stored(database)) == len(sheet.good)
    assert count_events(database, EventKind.PERSON_CREATED) == len(sheet.good)
    assert count_events(database, EventKind.PERSON_UPDATED) == 0


def test_a_changed_phone_in_a_reimport_updates_that_one_person(
    client: TestClient, database: Database, county_a: Headers
) -> None:
    sheet = Sheet()
    for i in range(50):
        sheet.add(person(i))
    upload(client, county_a, sheet.csv())
    changed = sheet.good[17]
    sheet.lines[18][HEADER.index("phone")] = "139 0000 1717"
    report = upload(client, county_a, sheet.csv())
    assert (report["rows_created"], report["rows_updated"], report["rows_unchanged"]) == (0, 1, 49)
    stored = persons_stored(database)
    assert stored[changed["resident_id"]].phone == "13900001717"
    assert stored[sheet.good[16]["resident_id"]].phone == (sheet.good[16]["phone"] or None)
    with database.session() as session:
        updates = session.scalars(select(Event).where(Event.kind == EventKind.PERSON_UPDATED.value)).all()
    assert [(e.person_id, e.payload["fields"]) for e in updates] == [(stored[changed["resident_id"]].id, ["phone"])]


def test_a_gb18030_file_from_excel_imports_with_chinese_names_intact(
    client: TestClient, database: Database, county_a: Headers
) -> None:
    sheet = with_bad_rows(200)
    content = sheet.csv("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really not UTF-8
    assert_report(upload(client, county_a, content), sheet)
    stored = persons_stored(database)
    assert {stored[r["resident_id"]].name for r in sheet.good} == {r["name"] for r in sheet.good}


def test_a_utf8_file_with_a_byte_order_mark_imports(client: TestClient, database: Database, county_a: Headers) -> None:
    sheet = Sheet()
    for i in range(20):
        sheet.add(person(i))
    assert_report(upload(client, county_a, b"\xef\xbb\xbf" + sheet.csv()), sheet)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_rows_with_bytes_of_no_encoding_are_reported_and_the_rest_stored(
    client: TestClient, database: Database, county_a: Headers, encoding: str
) -> None:
    sheet = Sheet()
    for i in range(60):
        sheet.add(person(i))
    lines = sheet.csv(encoding).split(b"\r\n")
    garbled = {5: 11, 23: 33}  # line index → the person whose row it held
    for index in garbled:
        lines[index] = lines[index].replace(b",", b",\xff\xfe", 1)  # neither UTF-8 nor GB18030
    report = upload(client, county_a, b"\r\n".join(lines))
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(index + 1, "encoding") for index in garbled]
    assert report["rows_created"] == 58
    stored = persons_stored(database)
    names = {stored[r["resident_id"]].name for r in sheet.good if r["resident_id"] in stored}
    assert names == {r["name"] for n, r in enumerate(sheet.good, start=1) if n not in garbled}


def test_an_xlsx_workbook_imports_the_same_way(client: TestClient, database: Database, county_a: Headers) -> None:
    sheet = with_bad_rows(300)
    wrong_columns = [n for n, (f, _) in sheet.bad.items() if f == "row"]
    for n in wrong_columns:  # a worksheet has no ragged rows: the short row has empty cells, so sex is missing...
        sheet.bad[n] = ("jurisdiction_code", "is required")
    report = upload(client, county_a, sheet.xlsx(), "persons.xlsx")
    assert_report(report, sheet)
    again = upload(client, county_a, sheet.xlsx(), "persons.xlsx")
    assert (again["rows_created"], again["rows_unchanged"]) == (0, len(sheet.good))
    stored = persons_stored(database)
    row = sheet.good[12]
    assert (stored[row["resident_id"]].name, stored[row["resident_id"]].phone) == (row["name"], row["phone"] or None)


def test_a_crash_mid_import_leaves_no_person_and_a_failed_report(
    client: TestClient, database: Database, county_a: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = Sheet()
    for i in range(2_500):
        sheet.add(person(i))
    real_record_many = importer.record_many
    chunks: list[int] = []

    def crash_on_the_second_chunk(ctx, events):  # type: ignore[no-untyped-def]
        chunks.append(1)
        if len(chunks) == 2:
            raise OSError("disk full")
        return real_record_many(ctx, events)

    monkeypatch.setattr(importer, "record_many", crash_on_the_second_chunk)
    with pytest.raises(OSError, match="disk full"):
        client.post("/api/persons/import", files={"file": ("persons.csv", sheet.csv())}, headers=county_a)
    assert len(chunks) == 2  # a thousand persons had been inserted when it crashed
    assert persons_stored(database) == {}
    assert count_events(database, EventKind.PERSON_CREATED) == 0
    with database.session() as session:
        [failed] = session.scalars(select(ImportReport)).all()
    report = client.get(f"/api/imports/{failed.id}", headers=county_a).json()
    assert (report["status"], report["rows_created"]) == ("failed", 0)
    assert report["errors"] == [{"row": 0, "field": "file", "reason": "OSError"}]
    monkeypatch.undo()
    assert upload(client, county_a, sheet.csv())["rows_created"] == 2_500  # and the same file goes in afterwards


def test_a_county_user_cannot_import_into_another_county(
    client: TestClient, database: Database, county_a: Headers
) -> None:
    sheet = Sheet()
    for i in range(10):
        sheet.add(person(i))
    for i in range(10, 13):
        sheet.add_bad(person(i, code=BUILDING_B, region="330602"), "jurisdiction_code", "outside your jurisdiction")
    report = upload(client, county_a, sheet.csv())
    assert_report(report, sheet)
    assert {p.resident_id for p in persons_stored(database).values()} == {r["resident_id"] for r in sheet.good}


def test_a_county_user_cannot_overwrite_another_countys_person_by_import(
    client: TestClient, database: Database, clock: SimulatedClock, county_a: Headers, district: District
) -> None:
    theirs = person(1, code=BUILDING_B, region="330602")
    sheet = Sheet()
    sheet.add(theirs)
    admin = login(client, make_user(database, clock, Role.ADMIN, district.province))
    upload(client, admin, sheet.csv())
    hijack = Sheet()
    hijack.add(theirs | {"jurisdiction_code": BUILDING_A, "phone": "13900009999"})
    report = upload(client, county_a, hijack.csv())
    assert (report["rows_created"], report["rows_updated"], report["rows_unchanged"]) == (0, 0, 0)
    assert report["errors"] == [
        {"row": 2, "field": "resident_id", "reason": "is registered to a person outside your jurisdiction"}
    ]
    kept = persons_stored(database)[theirs["resident_id"]]
    assert (kept.jurisdiction_id, kept.phone) == (district.building_b, theirs["phone"] or None)


def test_an_import_report_of_another_county_is_not_found(
    client: TestClient, database: Database, clock: SimulatedClock, county_a: Headers, district: District
) -> None:
    sheet = Sheet()
    sheet.add(person(1))
    report = upload(client, county_a, sheet.csv())
    other = login(client, make_user(database, clock, Role.COMMANDER, district.county_b))
    assert client.get(f"/api/imports/{report['id']}", headers=other).status_code == 404
    assert client.get(f"/api/imports/{report['id']}", headers=county_a).status_code == 200


def test_a_file_without_the_required_columns_is_refused_whole(client: TestClient, county_a: Headers) -> None:
    response = client.post(
        "/api/persons/import", files={"file": ("p.csv", "resident_id,name\n1,王芳\n".encode())}, headers=county_a
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "file"
    assert "jurisdiction_code" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("column", "code"), [("household_code", "HH-b"), ("address_code", "ADDR-b")])
def test_a_county_user_cannot_hang_imported_people_on_another_countys_household_or_address(
    client: TestClient, database: Database, clock: SimulatedClock, column: str, code: str
) -> None:
    world = make_two_counties(database, clock)
    headers = login(client, make_user(database, clock, Role.COMMANDER, world.a.id))
    sheet = Sheet()
    sheet.lines[0] = [*HEADER, "address_code"]
    ours = person(1)
    sheet.good.append(ours)
    sheet.lines.append([ours[c] for c in HEADER] + [""])
    theirs = person(2) | {"household_code": ""}
    sheet.lines.append([theirs[c] for c in HEADER] + [""])
    sheet.lines[-1][sheet.lines[0].index(column)] = code
    sheet.bad[3] = (column, "outside your jurisdiction")
    assert_report(upload(client, headers, sheet.csv()), sheet)
    assert theirs["resident_id"] not in persons_stored(database)
