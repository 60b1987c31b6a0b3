"""Stream positions: one counter orders events, receipts, typing, account data, to-device, ...

``next_position()`` must be called inside the writing transaction: the counter row's lock makes
the order in which positions commit equal the order in which they are handed out, so a sync that
has seen position p can never later miss a write at a position below p.
"""

from ..models.streams import StreamCounter


def next_position() -> int:
    """Take the next stream position (call inside a write transaction)."""
    query = (StreamCounter.update(position=StreamCounter.position + 1)
             .where(StreamCounter.id == 1)
             .returning(StreamCounter.position))
    row = query.execute()
    return list(row)[0].position


def current_position() -> int:
    """The highest stream position handed out and committed."""
    return StreamCounter.select(StreamCounter.position).where(StreamCounter.id == 1).scalar() or 0
