"""What a suspended account may not do (spec: "Account suspension").

The spec leaves the exact set to the server but asks that a suspended user can still read
(/sync, /messages...), verify devices and write cross-signing data, use key backup, leave
rooms and reject invites, redact their own events, log out, delete devices and deactivate.
Its recommended forbidden set is what this server refuses, with 403 M_USER_SUSPENDED:

- joining or knocking on rooms, accepting or sending invites (and kicks, bans, unbans);
- sending events to rooms (``/send``, and ``/state`` except leaving a room);
- changing profile data; creating or upgrading rooms; uploading media;
- redacting other users' events.

Every refusal goes through ``ensure_not_suspended``, directly or through
``ensure_may_set_state`` (PUT /state) and ``ensure_may_redact``, called by the service entry
points of those actions (``writing/``: send, state, redact, createRoom, upgrade, join, knock,
invite, kick, ban, unban; ``users/profile``; ``media/repository``: uploads). A suspension
takes effect on the next request: the requester is read from the account row on every
request.
"""

from __future__ import annotations

from ... import errors
from ...models.rooms import Event
from ..event_types import MEMBER
from .requester import Requester

SUSPENDED_MESSAGE = "You cannot perform this action while suspended."


def ensure_not_suspended(requester: Requester, message: str | None = None) -> None:
    """403 M_USER_SUSPENDED for a suspended requester."""
    if requester.is_suspended:
        raise errors.UserSuspended(message or SUSPENDED_MESSAGE)


def ensure_may_set_state(requester: Requester, event_type: str, state_key: str,
                         content: dict) -> None:
    """PUT /state: a suspended user may still leave a room (their own m.room.member with
    membership leave), nothing else."""
    if (requester.is_suspended and event_type == MEMBER and state_key == requester.user_id
            and content.get("membership") == "leave"):
        return
    ensure_not_suspended(requester)


def ensure_may_redact(requester: Requester, room_id: str, event_id: str) -> None:
    """A suspended user may redact only events they sent themselves."""
    if not requester.is_suspended:
        return
    sender = (Event.select(Event.sender)
              .where((Event.event_id == event_id) & (Event.room == room_id)).scalar())
    if sender != requester.user_id:
        raise errors.UserSuspended("You cannot redact other users' events while suspended.")
