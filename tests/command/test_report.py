"""The daily report (日报) as the headquarters reads it: the HTML page, the PDF and the JSON say the same
sentences and numbers as the situation API, in Chinese and in English, for the reader's jurisdiction only."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests.command.factories import activate
from tests.factories import login, make_user
from tests.isolation.factories import StayRef
from tests.isolation.release_factories import at_site  # noqa: F401
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case
from tests.transfer.factories import TransferWorld, make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


@pytest.fixture
def outbreak(
    database: Database,
    clock: SimulatedClock,
    at_site: tuple[TransferWorld, list[StayRef]],  # noqa: F811
) -> TransferWorld:
    """On 11 December: a contact held at the site in county A confirmed, and a resident of county B under
    no control confirmed; county A's incident command is in force."""
    world, stays = at_site
    clock.advance(timedelta(days=1))
    confirm_case(database, clock, stays[0].person_id, world.district.building_a, onset=date(2021, 12, 10))
    [resident] = make_household(database, clock, world.district.building_b, 1)
    confirm_case(database, clock, resident, world.district.building_b, onset=None)
    activate(database, clock, world.district.county_a)
    return world


def _as(client: TestClient, database: Database, clock: SimulatedClock, role: Role, where: int) -> Headers:
    return login(client, make_user(database, clock, role, where))


def _flat(text: str) -> str:
    """Text without whitespace: the PDF wraps lines and spaces table cells its own way."""
    return re.sub(r"\s+", "", text)


def _pdf_text(content: bytes) -> str:
    return _flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def _html_text(html: str) -> str:
    return _flat(unescape(re.sub(r"<[^>]+>", " ", html)))


def _lines(report: dict[str, Any]) -> list[str]:
    """What the report says: its title, sentences, and each table row's cells in order."""
    rows = ["".join(row) for table in report["tables"] for row in table["rows"]]
    return [_flat(line) for line in [report["title"], report["subtitle"], *[i["text"] for i in report["items"]], *rows]]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_html_report_the_pdf_and_the_api_say_the_same_numbers(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: TransferWorld, lang: str
) -> None:
    analyst = _as(client, database, clock, Role.ANALYST, outbreak.district.city)
    params = {"day": "2021-12-11", "lang": lang}

    report = client.get("/api/reports/daily", params=params, headers=analyst).json()
    situation = client.get("/api/situation", params=params, headers=analyst).json()
    html = client.get("/reports/daily", params=params, headers={**analyst, "Accept": "text/html"})
    pdf = client.get("/reports/daily.pdf", params=params, headers=analyst)

    assert report["situation"] == situation
    headline = {key: row[1] for key, row in zip(_HEADLINE, report["tables"][0]["rows"], strict=True)}
    assert (headline["new_cases"], headline["quarantine"], headline["community"]) == ("2", "1", "1")
    assert headline["open_loops"] == str(situation["headline"]["open_loops"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    in_html, in_pdf = _html_text(html.text), _pdf_text(pdf.content)
    for line in _lines(report):
        assert line in in_html, line
        assert line in in_pdf, line


_HEADLINE = (
    "new_cases",
    "quarantine",
    "community",
    "cumulative",
    "traced_today",
    "traced",
    "isolated_today",
    "isolated",
    "open_loops",
    "overdue_loops",
)


def test_the_report_reads_in_chinese_and_in_english_with_the_incidents_cadence(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: TransferWorld
) -> None:
    commander = _as(client, database, clock, Role.COMMANDER, outbreak.district.county_a)

    chinese = client.get("/api/reports/daily", params={"lang": "zh-CN"}, headers=commander).json()
    english = client.get("/api/reports/daily", params={"lang": "en"}, headers=commander).json()
    page = client.get("/reports/daily", params={"lang": "zh-CN"}, headers={**commander, "Accept": "text/html"}).text

    assert chinese["title"] == "日报" and english["title"] == "Daily report"
    assert "<h1>日报</h1>" in page
    cadence = {item["key"]: item["text"] for item in english["items"]}["cadence"]
    assert "every 4 h" in cadence and chinese["situation"] == english["situation"]
    assert english["situation"]["incident"]["report_every_hours"] == 4.0
    assert "新增" in _pdf_text(client.get("/reports/daily.pdf", headers=commander).content)


def test_a_reader_gets_the_report_of_their_own_jurisdiction_only(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: TransferWorld
) -> None:
    county_b = _as(client, database, clock, Role.COMMANDER, outbreak.district.county_b)
    lab = _as(client, database, clock, Role.LAB, outbreak.district.county_b)

    theirs = client.get("/api/reports/daily", headers=county_b).json()
    outside = {"jurisdiction_id": str(outbreak.district.county_a)}

    assert theirs["situation"]["headline"]["new_cases"] == {"quarantine": 0, "community": 1}
    assert theirs["situation"]["incident"] is None  # county A's incident is not county B's
    for path in ("/api/reports/daily", "/reports/daily", "/reports/daily.pdf"):
        refused = client.get(path, params=outside, headers=county_b)
        assert refused.status_code == 422 and "jurisdiction_id" in refused.text, path
        assert client.get(path, headers=lab).status_code == 403, path
