"""Use cases of the transfer queue (快编组): who waits to be moved, from where, and since when.

Confirmed cases and contacts enter from their events (`entering`, via `reactions`); the board and
the planner read the queue (`reading`); transfer moves people on and hands them back (`moving`).
"""

from bihuan.grouping.service.entering import QueueItem, check_queue_items, enqueue
from bihuan.grouping.service.moving import (
    cancel,
    mark,
    mark_planned,
    note_unplaced,
    requests_for_transfer,
    requeue_upgraded,
    return_to_queue,
)
from bihuan.grouping.service.reading import (
    NO_PICKUP,
    get_request,
    list_requests,
    open_request_of,
    requests_by_id,
    summary,
    traveller_of,
    waiting,
)

__all__ = [
    "NO_PICKUP",
    "QueueItem",
    "cancel",
    "check_queue_items",
    "enqueue",
    "get_request",
    "list_requests",
    "mark",
    "mark_planned",
    "note_unplaced",
    "open_request_of",
    "requests_by_id",
    "requests_for_transfer",
    "requeue_upgraded",
    "return_to_queue",
    "summary",
    "traveller_of",
    "waiting",
]
