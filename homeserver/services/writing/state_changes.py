"""PUT /rooms/{roomId}/state/{eventType}/{stateKey} (spec: "Sending state events"): a client's
state event, after the policy (a suspended account may only leave; the send counts against the
sender's rate limit), goes to the writer of its type: membership changes through
``membership.set_member_state`` (the dedicated endpoints' checks), m.room.guest_access through
``guest_access.set_guest_access`` (joined guests leave with it), anything else through
``events.send_state_event``."""

from __future__ import annotations

from ..event_types import GUEST_ACCESS, MEMBER
from ..policy import ratelimit, suspension
from ..policy.requester import Requester
from . import events, guest_access, membership


def set_state(requester: Requester, room_id: str, event_type: str, state_key: str,
              content: dict, *, rate_rule: dict | None) -> str:
    """Returns the event ID (the current event's when identical state is sent again)."""
    suspension.ensure_may_set_state(requester, event_type, state_key, content)
    ratelimit.charge("send", requester, rate_rule)
    if event_type == MEMBER:
        return membership.set_member_state(requester.user_id, room_id, state_key, content)
    if event_type == GUEST_ACCESS:
        return guest_access.set_guest_access(requester.user_id, room_id, state_key,
                                             content).event_id
    return events.send_state_event(requester.user_id, room_id, event_type, state_key,
                                   content).event_id
