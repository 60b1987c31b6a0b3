"""Simplified Sliding Sync (MSC4186), one more reader over /sync's stream positions.

``service.py``    the request loop: build in one snapshot, long-poll (sync.service.wait_for_news)
``request.py``    the request's values and the operator's bounds (config ``sliding_sync``)
``required_state.py``  which state a list or subscription asks for
``room_list.py``  the user's rooms in activity order (``Room.bump_stamp``)
``list_filters.py``  list ``filters``
``rooms.py``      lists, ranges, subscriptions, what changed for the connection
``room_entry.py`` one room's entry (timeline, required_state, name, counts...)
``extensions.py`` to_device, e2ee, account_data, receipts, typing
``connections.py``  pos tokens and what each connection holds of each room
"""

from .service import sliding_sync

__all__ = ["sliding_sync"]
