"""Guests in rooms (spec: Guest Access, "Server behaviour").

"Servers MUST only allow guest users to join rooms if the m.room.guest_access state event is
present on the room, and has the guest_access value can_join": ``check_may_join`` runs for
every join (``membership._append_join``) under the room's lock. "If the m.room.guest_access
event is changed to stop this from being the case, the server MUST set those users'
m.room.member state to leave": ``set_guest_access`` appends the change and, in the same
transaction, each joined guest's leave (sent as the guest, as Synapse does), so no guest is
left joined for a moment, and the leave reaches the guest's /sync like any other.
"""

from __future__ import annotations

from ... import errors
from ...db import write_transaction
from ...models.rooms import CurrentState
from ...models.users import User
from ..event_types import GUEST_ACCESS, MEMBER
from .events import RoomAppender, Sent

CAN_JOIN = "can_join"


def is_guest(user_id: str) -> bool:
    return User.select().where((User.user_id == user_id) & User.is_guest).exists()


def _guests_can_join(room: RoomAppender) -> bool:
    event = room.state_event((GUEST_ACCESS, ""))
    content = event.get("content") if event else None
    return isinstance(content, dict) and content.get("guest_access") == CAN_JOIN


def check_may_join(room: RoomAppender, user_id: str) -> None:
    """403 M_GUEST_ACCESS_FORBIDDEN when a guest joins a room not open to guests."""
    if is_guest(user_id) and not _guests_can_join(room):
        raise errors.GuestAccessForbidden("Guest access is not allowed in this room")


def _joined_guests(room_id: str) -> list[str]:
    rows = (CurrentState.select(CurrentState.state_key)
            .join(User, on=(User.user_id == CurrentState.state_key))
            .where((CurrentState.room == room_id) & (CurrentState.type == MEMBER)
                   & (CurrentState.membership == "join") & User.is_guest)
            .order_by(CurrentState.state_key)
            .tuples())
    return [user_id for (user_id,) in rows]


def set_guest_access(sender: str, room_id: str, state_key: str, content: dict) -> Sent:
    """PUT /state/m.room.guest_access: the change, then the leave of every joined guest when
    guests may no longer join (one transaction, under the room's lock)."""
    with write_transaction():
        room = RoomAppender.lock(room_id)
        sent = room.append(sender, GUEST_ACCESS, content, state_key, dedupe=True)
        if state_key == "" and not _guests_can_join(room):
            for guest in _joined_guests(room_id):
                room.append(guest, MEMBER, {"membership": "leave"}, guest)
    return sent
