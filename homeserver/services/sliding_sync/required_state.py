"""``required_state`` of a list or room subscription (MSC4186): which state events to send.

Two shapes are read: the unstable endpoint's ``[[type, state_key], ...]`` (``"*"`` a wildcard
for either; ``$ME`` the user's own ID as state key; ``["m.room.member", "$LAZY"]`` the members
of the timeline's senders), and the MSC's latest ``{"include": [{type?, state_key?}],
"exclude": [...], "lazy_members": bool}`` (an omitted field matches everything).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ... import errors
from ..event_types import MEMBER

WILDCARD = "*"
LAZY = "$LAZY"
ME = "$ME"

# (type or None, state_key or None): None matches everything.
Pattern = tuple[str | None, str | None]


@dataclass(frozen=True)
class RequiredState:
    include: frozenset[Pattern] = frozenset()
    exclude: frozenset[Pattern] = frozenset()
    lazy_members: bool = False

    def union(self, other: "RequiredState") -> "RequiredState":
        """The superset of two configs (a room matched by several lists and subscriptions).
        An exclusion survives only when both exclude it."""
        return RequiredState(self.include | other.include, self.exclude & other.exclude,
                             self.lazy_members or other.lazy_members)

    def matches(self, event_type: str, state_key: str) -> bool:
        def hit(patterns) -> bool:
            return any((t is None or t == event_type) and (k is None or k == state_key)
                       for t, k in patterns)

        return hit(self.include) and not hit(self.exclude)

    @property
    def is_empty(self) -> bool:
        return not self.include and not self.lazy_members

    def types(self) -> list[str] | None:
        """The event types to read from the room's state (None: every type)."""
        if any(t is None for t, _ in self.include):
            return None
        types = {t for t, _ in self.include}
        if self.lazy_members:
            types.add(MEMBER)
        return sorted(types)

    def key(self) -> str:
        """A canonical text of this config, to tell whether it changed between requests."""
        return json.dumps([sorted(self.include, key=_order), sorted(self.exclude, key=_order),
                           self.lazy_members])


def _order(pattern: Pattern) -> tuple[str, str]:
    return (pattern[0] or "", pattern[1] or "")


def parse(value, user_id: str, max_entries: int) -> RequiredState:
    """Read either shape; anything else answers M_INVALID_PARAM."""
    if value is None:
        return RequiredState()
    if isinstance(value, list):
        return _parse_pairs(value, user_id, max_entries)
    if isinstance(value, dict):
        include = _parse_elements(value.get("include"), user_id, max_entries, "include")
        exclude = _parse_elements(value.get("exclude"), user_id, max_entries, "exclude")
        lazy = value.get("lazy_members", False)
        if not isinstance(lazy, bool):
            raise errors.InvalidParam("required_state.lazy_members must be a boolean")
        return RequiredState(frozenset(include), frozenset(exclude), lazy)
    raise errors.InvalidParam("required_state must be a list of [type, state_key] pairs")


def _check_count(items: list, max_entries: int) -> None:
    if len(items) > max_entries:
        raise errors.InvalidParam(
            f"required_state may hold at most {max_entries} entries")


def _parse_pairs(pairs: list, user_id: str, max_entries: int) -> RequiredState:
    _check_count(pairs, max_entries)
    include: set[Pattern] = set()
    lazy = False
    for pair in pairs:
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(part, str) for part in pair)):
            raise errors.InvalidParam("required_state entries must be [type, state_key] pairs")
        event_type, state_key = pair
        if event_type == MEMBER and state_key == LAZY:
            lazy = True
            continue
        include.add((None if event_type == WILDCARD else event_type,
                     None if state_key == WILDCARD
                     else user_id if state_key == ME else state_key))
    return RequiredState(frozenset(include), frozenset(), lazy)


def _parse_elements(elements, user_id: str, max_entries: int, name: str) -> list[Pattern]:
    if elements is None:
        return []
    if not isinstance(elements, list):
        raise errors.InvalidParam(f"required_state.{name} must be a list")
    _check_count(elements, max_entries)
    out = []
    for element in elements:
        if not isinstance(element, dict):
            raise errors.InvalidParam(f"required_state.{name} entries must be objects")
        event_type, state_key = element.get("type"), element.get("state_key")
        if not all(part is None or isinstance(part, str) for part in (event_type, state_key)):
            raise errors.InvalidParam(f"required_state.{name}: type and state_key are strings")
        out.append((event_type, user_id if state_key == ME else state_key))
    return out
