"""The contact engine on a synthetic outbreak: every true household and venue transmission is found."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pyarrow.parquet as pq
import pytest

from bihuan.protocol import CaseFacts, ContactCategory, ProtocolProfile, load_profile
from bihuan.sim import DistrictManifest
from bihuan.tracing.backends import DuckDBBackend
from bihuan.tracing.engine import CaseExposure, ContactFindings, ContactSources, case_exposure, find_contacts


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("cn-8th-2021")


@pytest.fixture(scope="module")
def truth(outbreak_district: DistrictManifest) -> list[dict[str, object]]:
    return pq.read_table(outbreak_district.infections).to_pylist()


@pytest.fixture(scope="module")
def exposures(truth: list[dict[str, object]], profile: ProtocolProfile) -> dict[int, CaseExposure]:
    """Every true infection is a confirmed case, its window from the protocol's close-contact rule."""
    return {
        int(row["infectee_key"]): case_exposure(  # type: ignore[call-overload]
            int(row["infectee_key"]),  # type: ignore[call-overload]
            CaseFacts(row["onset_date"], row["first_positive_sampling_date"]),  # type: ignore[arg-type]
            profile,
        )
        for row in truth
    }


@pytest.fixture(scope="module")
def findings(
    outbreak_district: DistrictManifest, exposures: dict[int, CaseExposure], profile: ProtocolProfile
) -> ContactFindings:
    d = outbreak_district
    start = datetime.combine(d.start_date, datetime.min.time())
    sources = ContactSources(d.persons, d.venues, d.scans, d.pings, period=(start, start + timedelta(days=d.days)))
    backend = DuckDBBackend(threads=2)
    try:
        began = time.perf_counter()
        found = find_contacts(backend, sources, list(exposures.values()), profile)
        print(
            f"\ncontact engine: {len(exposures)} cases, {len(found.contacts)} contacts, "
            f"{time.perf_counter() - began:.2f} s"
        )
        return found
    finally:
        backend.close()


def _transmissions(
    truth: list[dict[str, object]], exposures: dict[int, CaseExposure], setting: str
) -> list[dict[str, object]]:
    """True transmissions in one setting by a case, at a time inside the infector's exposure window."""
    chosen = []
    for row in truth:
        infector = row["infector_key"]
        if row["setting"] != setting or infector not in exposures:
            continue
        window = exposures[infector]  # type: ignore[index]
        moment = row["infected_at"]
        assert isinstance(moment, datetime)
        if window.start <= moment and (window.end is None or moment <= window.end):
            chosen.append(row)
    return chosen


def test_the_outbreak_has_household_and_venue_transmissions(truth: list[dict[str, object]]) -> None:
    settings = [row["setting"] for row in truth]
    assert settings.count("venue") >= 20
    assert settings.count("household") >= 10


def test_every_venue_transmission_is_a_close_contact_at_that_venue(
    truth: list[dict[str, object]], exposures: dict[int, CaseExposure], findings: ContactFindings
) -> None:
    expected = _transmissions(truth, exposures, "venue")
    by_pair = {(c.case_key, c.contact_key): c for c in findings.contacts}
    missed = [
        row
        for row in expected
        if (found := by_pair.get((row["infector_key"], row["infectee_key"]))) is None  # type: ignore[arg-type]
        or found.category is not ContactCategory.CLOSE_CONTACT
        or f"venue:{row['venue_id']}" not in found.reasons
    ]
    print(f"\nvenue transmissions: {len(expected)}, recall {1 - len(missed) / len(expected):.1%}")
    assert expected
    assert missed == []


def test_every_household_transmission_is_a_close_contact_at_home(
    truth: list[dict[str, object]], exposures: dict[int, CaseExposure], findings: ContactFindings
) -> None:
    expected = _transmissions(truth, exposures, "household")
    by_pair = {(c.case_key, c.contact_key): c for c in findings.contacts}
    missed = [
        row
        for row in expected
        if (found := by_pair.get((row["infector_key"], row["infectee_key"]))) is None  # type: ignore[arg-type]
        or found.category is not ContactCategory.CLOSE_CONTACT
        or "household" not in found.reasons
    ]
    print(f"\nhousehold transmissions: {len(expected)}, recall {1 - len(missed) / len(expected):.1%}")
    assert expected
    assert missed == []


def test_precision_is_reported(truth: list[dict[str, object]], findings: ContactFindings) -> None:
    """Precision: of the close contacts found, the share who were really infected by that case."""
    close = {(c.case_key, c.contact_key) for c in findings.contacts if c.category is ContactCategory.CLOSE_CONTACT}
    infected_by = {(row["infector_key"], row["infectee_key"]) for row in truth if row["infector_key"] is not None}
    true_positive = len(close & infected_by)  # type: ignore[operator]
    counts = {str(k): sum(c.category is k for c in findings.contacts) for k in ContactCategory}
    print(
        f"\nclose contacts {len(close)}, true transmissions among them {true_positive}, "
        f"precision {true_positive / len(close):.2%}; by category {counts}; bad rows {findings.bad_rows}"
    )
    assert true_positive > 0


def test_no_case_is_its_own_contact_and_results_are_ordered(findings: ContactFindings) -> None:
    keys = [(c.case_key, c.contact_key) for c in findings.contacts]
    assert all(case != contact for case, contact in keys)
    assert keys == sorted(set(keys))
    assert all(c.reasons == tuple(sorted(set(c.reasons))) for c in findings.contacts)
