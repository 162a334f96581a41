"""HTTP API of a person's recorded ends of the loop (闭环终点): hospitalised, died, moved out."""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.people import outcomes
from bihuan.people.outcomes_schemas import OutcomeIn, OutcomePublic, OutcomesPublic

router = APIRouter(prefix="/api/people", tags=["people"])


@router.post("/{person_id}/outcomes")
def record_outcome(ctx: UserCtx, profile: ProfileDep, person_id: int, data: OutcomeIn) -> OutcomePublic:
    """Record that the person was hospitalised, died or moved out; their stay, queue entry and home phase end
    with it. The same outcome at the same time again (or a second death) returns the first record."""
    return outcomes.record_outcome(ctx, profile, person_id, data)


@router.get("/{person_id}/outcomes")
def list_outcomes(ctx: UserCtx, person_id: int) -> OutcomesPublic:
    """The person's recorded outcomes, in the order they happened."""
    return outcomes.list_outcomes(ctx, person_id)
