"""The one budgeted batch scan of a room's events: timelines (/messages, /context, /sync,
the room previews), relations, threads and the timestamp lookup all read through it.

Rows are fetched ``BATCH`` at a time, each batch after the last row of the one before
(keyset pagination), and a scan stops after ``SCAN_BUDGET`` rows: a filter or history
visibility that hides almost everything must not make one request read a whole room
("Hostile by default" in docs/architecture.md). What a caller does with each batch
(visibility, ignored users, filters) is its own.

``Scan(fetch, cursor_of, batch=BATCH)``
    Iterate for the batches; ``fetch(cursor)`` returns up to ``batch`` rows after ``cursor``
    (None: from the start) and ``cursor_of(row)`` names a row's place. ``exhausted`` tells
    whether the scan reached the end (a short batch) rather than the budget; ``cursor`` is
    the place of the last row read (None when none was).

``page(base, lower=, upper=, direction=, limit=, visible=)``
    Up to ``limit`` rows of the query ``base`` in ``lower < stream_ordering <= upper`` that
    pass ``visible(rows) -> rows``, newest first ("b") or oldest first ("f"), as a ``Page``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from ...models.rooms import Event
from . import event_rows

# Rows fetched per query, and the most rows one scan may look at.
BATCH = 100
SCAN_BUDGET = 5000


class Scan:
    """See the module docstring."""

    def __init__(self, fetch: Callable[[object], list], cursor_of: Callable[[object], object],
                 batch: int = BATCH):
        self._fetch = fetch
        self._cursor_of = cursor_of
        self.batch = batch
        self.exhausted = False
        self.cursor = None

    def __iter__(self) -> Iterator[list]:
        scanned = 0
        while scanned < SCAN_BUDGET:
            rows = self._fetch(self.cursor)
            scanned += len(rows)
            if rows:
                self.cursor = self._cursor_of(rows[-1])
            self.exhausted = len(rows) < self.batch
            yield rows
            if self.exhausted:
                return


@dataclass
class Page:
    rows: list[Event]   # in the order scanned (newest first for "b", oldest first for "f")
    more: bool          # matching events may remain beyond the page
    boundary: int       # the token position to continue from


def _remaining(lower: int | None, upper: int, last: int | None,
               backwards: bool) -> tuple[int | None, int]:
    """The (low, high] range still to scan after the row at ``last``."""
    if last is None:
        return lower, upper
    return (lower, last - 1) if backwards else (last, upper)


def page(base, *, lower: int | None, upper: int, direction: str, limit: int,
         visible: Callable[[list], list]) -> Page:
    """See the module docstring; ``Page.boundary`` is the token position to continue from.

    A batch holds ``limit + 1`` rows when that is more than ``BATCH``: a page of 100 whose
    events are all visible is then one query, not two (the extra row tells whether more
    remain)."""
    backwards = direction == "b"
    batch = max(BATCH, min(limit, SCAN_BUDGET) + 1)
    order = Event.stream_ordering.desc() if backwards else Event.stream_ordering.asc()

    def fetch(last: int | None) -> list[Event]:
        low, high = _remaining(lower, upper, last, backwards)
        if low is not None and high <= low:
            return []
        query = base.where(Event.stream_ordering <= high)
        if low is not None:
            query = query.where(Event.stream_ordering > low)
        return event_rows.fetch(query.order_by(order).limit(batch))

    scan = Scan(fetch, lambda row: row.stream_ordering, batch)
    collected: list[Event] = []
    for rows in scan:
        collected.extend(visible(rows))
        if len(collected) > limit:
            break
    chosen = collected[:limit]
    more = len(collected) > limit or not scan.exhausted
    if len(collected) > limit:
        last = chosen[-1].stream_ordering if chosen else (upper if backwards else (lower or 0))
        boundary = last - 1 if backwards and chosen else last
    else:
        low, high = _remaining(lower, upper, scan.cursor, backwards)
        boundary = high if backwards else (low if low is not None else 0)
    return Page(chosen, more, boundary)
