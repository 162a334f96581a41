"""The contact engine on a hand-built street: thresholds, merged reasons, general and secondary contacts,
the cases' own visits, bad rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bihuan.protocol import ContactCategory, ProtocolProfile, VenueKind, load_profile
from bihuan.tracing.backends import DuckDBBackend
from bihuan.tracing.engine import BadRowScope, CaseExposure, ContactFindings, ContactSources, find_contacts

CASE = 1
RESTAURANT, LIFT, OFFICE = 100, 200, 300
ISOLATED_4 = datetime(2021, 12, 4, 9)


def t(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2021, 12, day, hour, minute, second)


SCANS = [
    (CASE, RESTAURANT, t(3, 12), t(3, 12, 30)),
    (2, RESTAURANT, t(3, 12), t(3, 12, 30)),  # household member, also at the restaurant
    (3, RESTAURANT, t(3, 12, 16), t(3, 12, 40)),  # 14 minutes together: a general contact
    (6, RESTAURANT, t(3, 11, 30), t(3, 12, 15)),  # 15 minutes together: a close contact
    (6, RESTAURANT, t(3, 11, 30), t(3, 12, 15)),  # ... scanned twice: a duplicate row
    (CASE, RESTAURANT, t(2, 12), t(2, 13)),  # before the case's window ...
    (7, RESTAURANT, t(2, 12), t(2, 13)),  # ... so not a contact
    (CASE, LIFT, t(3, 9), t(3, 9, 2)),
    (4, LIFT, t(3, 9), t(3, 9, 3)),  # 2 minutes in a lift: a close contact
    (11, LIFT, t(3, 9), t(3, 9, 2)),  # close in the lift ...
    (11, RESTAURANT, t(3, 12), t(3, 12, 10)),  # ... and 10 minutes at the restaurant: close with both reasons
    (12, LIFT, t(3, 9, 1, 30), t(3, 9, 5)),  # 30 seconds in the lift, short of its 1 minute: general
    (13, OFFICE, t(3, 16), t(3, 17)),  # at the office when the case says it was there (a case visit)
    (4, OFFICE, t(3, 14), t(3, 15)),
    (10, OFFICE, t(3, 14), t(3, 15)),  # with close contact 4 before their isolation: secondary
    (4, OFFICE, t(4, 10), t(4, 11)),
    (9, OFFICE, t(4, 10), t(4, 11)),  # with 4 after their isolation: nobody
    (999, OFFICE, t(3, 14), t(3, 15)),  # unknown person
    (10, 777, t(3, 14), t(3, 15)),  # unknown venue
    (10, OFFICE, t(3, 15), t(3, 14)),  # exit before entry
    (10, OFFICE, t(11, 8), t(11, 9)),  # after the data window
]
HOUSEHOLDS = {CASE: "H1", 2: "H1", 5: "H1", 3: "H3", 4: "H4", 8: "H4", 6: "H6", 7: "H7", 9: "H9", 10: "H10"}
HOUSEHOLDS |= {11: "H11", 12: "H12", 13: "H13"}
VISIT_TO_OFFICE = (CASE, OFFICE, t(3, 16), t(3, 17, 30))  # told to the investigator, never scanned


def visits(*rows: tuple[int, int, datetime, datetime]) -> pa.Table:
    person, venue, time_in, time_out = zip(*rows, strict=True)
    return pa.table(
        {
            "person_key": pa.array(person, pa.int64()),
            "venue_id": pa.array(venue, pa.int32()),
            "time_in": pa.array(time_in, pa.timestamp("us")),
            "time_out": pa.array(time_out, pa.timestamp("us")),
        }
    )


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> ContactSources:
    root: Path = tmp_path_factory.mktemp("street")
    pq.write_table(
        pa.table({"person_key": pa.array(list(HOUSEHOLDS), pa.int64()), "household_code": list(HOUSEHOLDS.values())}),
        root / "persons.parquet",
    )
    venues = {"venue_id": pa.array([RESTAURANT, LIFT, OFFICE], pa.int32()), "kind": ["restaurant", "lift", "office"]}
    pq.write_table(pa.table(venues), root / "venues.parquet")
    person, venue, time_in, time_out = zip(*SCANS, strict=True)
    scans = pa.table(
        {
            "person_key": pa.array(person, pa.int64()),
            "venue_id": pa.array(venue, pa.int32()),
            "time_in": pa.array(time_in, pa.timestamp("us")),
            "time_out": pa.array(time_out, pa.timestamp("us")),
        }
    )
    pq.write_table(scans, root / "scans.parquet")
    return ContactSources(
        root / "persons.parquet", root / "venues.parquet", root / "scans.parquet", period=(t(1, 0), t(8, 0))
    )


def trace(
    sources: ContactSources,
    profile: ProtocolProfile | None = None,
    case_visits: pa.Table | None = None,
    bad_rows: BadRowScope = "traced",
) -> ContactFindings:
    """Case 1 from the 3rd, close contact 4 isolated on the 4th at 09:00."""
    backend = DuckDBBackend()
    try:
        case = CaseExposure(CASE, t(3, 0))
        return find_contacts(
            backend,
            sources,
            [case],
            profile or load_profile("cn-8th-2021"),
            isolated_at={4: ISOLATED_4},
            case_visits=case_visits,
            bad_rows=bad_rows,
        )
    finally:
        backend.close()


def with_restaurant_minutes(minutes: int) -> ProtocolProfile:
    """The 8th edition with another close-contact threshold for restaurants."""
    profile = load_profile("cn-8th-2021")
    venues = profile.tracing.venues
    changed = venues.model_copy(update={"minutes": {**venues.minutes, VenueKind.RESTAURANT: minutes}})
    tracing = profile.tracing.model_copy(update={"venues": changed})
    return profile.model_copy(update={"tracing": tracing})


@pytest.fixture(scope="module")
def findings(street: ContactSources) -> ContactFindings:
    return trace(street)


def test_venue_minutes_threshold_follows_the_venue_kind(findings: ContactFindings) -> None:
    contacts = findings.of_case(CASE)
    assert contacts[3].category is not ContactCategory.CLOSE_CONTACT  # 14 minutes at a restaurant, the profile says 15
    assert contacts[6].reasons == ("venue:100",)
    assert contacts[6].minutes == 15.0  # the duplicate scan is not counted twice
    assert contacts[4].category is ContactCategory.CLOSE_CONTACT  # 2 minutes in a lift are enough
    assert contacts[4].reasons == ("venue:200",)
    assert (contacts[4].first_exposure, contacts[4].last_exposure) == (t(3, 9), t(3, 9, 2))


def test_a_person_found_at_home_and_at_a_venue_is_one_contact_with_both_reasons(findings: ContactFindings) -> None:
    rows = [c for c in findings.contacts if c.contact_key == 2]
    assert len(rows) == 1
    assert rows[0].category is ContactCategory.CLOSE_CONTACT
    assert rows[0].reasons == ("household", "venue:100")
    assert findings.of_case(CASE)[5].reasons == ("household",)


def test_exposure_before_the_window_is_not_contact(findings: ContactFindings) -> None:
    assert 7 not in findings.of_case(CASE)


def test_secondary_contacts_come_via_a_close_contact_until_their_isolation(findings: ContactFindings) -> None:
    contacts = findings.of_case(CASE)
    assert contacts[8].category is ContactCategory.SECONDARY_CONTACT
    assert contacts[8].reasons == ("via:4:household",)
    assert contacts[10].category is ContactCategory.SECONDARY_CONTACT
    assert contacts[10].reasons == ("via:4:venue:300",)
    assert 9 not in contacts  # met close contact 4 only after 4 was isolated


def test_shorter_co_presence_at_a_venue_makes_a_general_contact(findings: ContactFindings) -> None:
    contacts = findings.of_case(CASE)
    assert contacts[3].category is ContactCategory.GENERAL_CONTACT  # 14 of the restaurant's 15 minutes
    assert (contacts[3].reasons, contacts[3].minutes) == (("venue:100",), 14.0)
    assert contacts[12].category is ContactCategory.GENERAL_CONTACT  # 30 seconds of the lift's 1 minute
    assert contacts[12].reasons == ("venue:200",)
    assert 7 not in findings.of_case(CASE)  # together before the case's window: no contact of any kind


def test_the_general_contact_threshold_is_the_profiles_close_contact_minutes(street: ContactSources) -> None:
    contacts = trace(street, with_restaurant_minutes(10)).of_case(CASE)
    assert contacts[3].category is ContactCategory.CLOSE_CONTACT  # 14 minutes now reach the restaurant's 10
    assert contacts[3].reasons == ("venue:100",)


def test_a_person_both_close_and_general_is_close_with_both_reasons(findings: ContactFindings) -> None:
    both = findings.of_case(CASE)[11]  # 2 minutes in the lift (close), 10 at the restaurant (general)
    assert both.category is ContactCategory.CLOSE_CONTACT
    assert both.reasons == ("venue:100", "venue:200")
    assert both.minutes == 12.0


def test_a_case_visit_counts_as_the_cases_scan(street: ContactSources, findings: ContactFindings) -> None:
    assert 13 not in findings.of_case(CASE)  # no scan puts the case at the office
    contacts = trace(street, case_visits=visits(VISIT_TO_OFFICE)).of_case(CASE)
    assert contacts[13].category is ContactCategory.CLOSE_CONTACT
    assert (contacts[13].reasons, contacts[13].minutes) == (("venue:300",), 60.0)
    assert contacts[10].reasons == ("via:4:venue:300",)  # 10 left the office at 15:00: still only secondary


def test_a_visit_of_someone_who_is_not_a_case_finds_nobody(street: ContactSources, findings: ContactFindings) -> None:
    not_a_case = (9, OFFICE, t(3, 16), t(3, 17))  # 9 is nobody's case: their visit is not traced
    again = trace(street, case_visits=visits(not_a_case))
    assert again.contacts == findings.contacts


def test_the_case_is_never_its_own_contact(findings: ContactFindings) -> None:
    assert all(c.contact_key != c.case_key for c in findings.contacts)
    assert sorted(findings.of_case(CASE)) == [2, 3, 4, 5, 6, 8, 10, 11, 12]


def test_bad_rows_among_the_traced_scans_are_counted_by_kind_and_left_out(findings: ContactFindings) -> None:
    # the duplicate of 6 at the restaurant, and 999 at the office with close contact 4; the other bad
    # rows are nowhere near the case or its close contacts
    assert findings.bad_rows == {"duplicate": 1, "unknown_person": 1}
    assert 999 not in findings.of_case(CASE)


def test_a_full_audit_counts_every_bad_scan_row_by_kind(street: ContactSources, findings: ContactFindings) -> None:
    audited = trace(street, bad_rows="all")
    assert audited.bad_rows == {
        "duplicate": 1,
        "exit_before_entry": 1,
        "outside_window": 1,
        "unknown_person": 1,
        "unknown_venue": 1,
    }
    assert audited.contacts == findings.contacts


def test_findings_become_one_arrow_table(findings: ContactFindings) -> None:
    table = findings.to_arrow()
    assert table.num_rows == len(findings.contacts)
    assert table.column("reasons").to_pylist()[0] == "household,venue:100"


def test_findings_built_from_contact_objects_match_the_engines_table(findings: ContactFindings) -> None:
    again = ContactFindings(findings.contacts, findings.bad_rows)
    assert again.to_arrow().equals(findings.to_arrow())
    assert again.of_case(CASE) == findings.of_case(CASE)
    assert len(again) == len(findings) == len(findings.contacts)
