"""The secondary contact's release condition (次密接解除条件): under the 8th edition a secondary contact
goes home only when the close contacts they were traced through tested negative on their first tests.

Tracing names those close contacts in the secondary contact's reasons (``via:<person>:household``,
``via:<person>:venue:<venue>``); their results are their site tests, in order (a case counts as a
positive). The rule itself is the profile's (`secondary_contact_release`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.isolation.choices import SiteTestStatus
from bihuan.isolation.models import SiteTest
from bihuan.protocol import (
    ContactCategory,
    ProtocolProfile,
    ReleaseDecision,
    TestOutcome,
    quarantine_schedule,
    secondary_contact_release,
)
from bihuan.screening.models import Case
from bihuan.tracing.models import TracedContact

_VIA = re.compile(r"^via:(\d+):")


def linked_release_reasons(ctx: Ctx, profile: ProtocolProfile, person_ids: Sequence[int]) -> dict[int, str]:
    """Why each secondary contact may not go yet under the profile's condition (people it lets go are left out)."""
    if not person_ids or quarantine_schedule(ContactCategory.SECONDARY_CONTACT, profile).release_condition is None:
        return {}
    links = _linked_close_contacts(ctx, person_ids)
    outcomes = _outcomes(ctx, sorted({c for linked in links.values() for c in linked}))
    reasons: dict[int, str] = {}
    for person_id, linked in links.items():
        decisions = {c: secondary_contact_release(outcomes.get(c, []), profile) for c in sorted(linked)}
        positive = [c for c, d in decisions.items() if d is ReleaseDecision.RECLASSIFY]
        waiting = [c for c, d in decisions.items() if d is ReleaseDecision.WAIT]
        if positive:
            reasons[person_id] = f"the linked close contact (person {positive[0]}) tested positive"
        elif waiting:
            reasons[person_id] = (
                f"the linked close contact's first tests (person {waiting[0]}) are not all negative yet"
            )
    return reasons


def _linked_close_contacts(ctx: Ctx, person_ids: Sequence[int]) -> dict[int, set[int]]:
    links: dict[int, set[int]] = defaultdict(set)
    for chunk in id_chunks(person_ids):
        stmt = select(TracedContact.person_id, TracedContact.reasons).where(
            TracedContact.person_id.in_(chunk), TracedContact.category == ContactCategory.SECONDARY_CONTACT.value
        )
        for person_id, reasons in ctx.session.execute(stmt):
            for reason in reasons or []:
                found = _VIA.match(str(reason))
                if found:
                    links[int(person_id)].add(int(found.group(1)))
    return links


def _outcomes(ctx: Ctx, person_ids: Sequence[int]) -> dict[int, list[TestOutcome]]:
    """Each close contact's test outcomes in order of their days; a case: one positive."""
    outcomes: dict[int, list[TestOutcome]] = defaultdict(list)
    for chunk in id_chunks(person_ids):
        stmt = (
            select(SiteTest.person_id, SiteTest.result)
            .where(SiteTest.person_id.in_(chunk), SiteTest.status != SiteTestStatus.CANCELLED.value)
            .order_by(SiteTest.person_id, SiteTest.due_on, SiteTest.id)
        )
        for person_id, result in ctx.session.execute(stmt):
            outcome = TestOutcome(result) if result in {o.value for o in TestOutcome} else TestOutcome.PENDING
            outcomes[int(person_id)].append(outcome)
        for case_person in ctx.session.scalars(select(Case.person_id).where(Case.person_id.in_(chunk))):
            outcomes[int(case_person)].insert(0, TestOutcome.POSITIVE)
    return outcomes
