"""Push rule conditions and rule matching (spec: Push Notifications, Conditions). Pure: no database.

One ``EventFacts`` per event is shared by every recipient; it memoizes each condition's result
by what the condition asks, so evaluating the same default rules for hundreds of members of a
room costs little more than for one: only the conditions naming the member (their user ID,
localpart or display name) are computed per member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from .push_rules_defaults import LEGACY_MENTION_RULES, substitute

HISTORICAL_ACTIONS = frozenset({"dont_notify", "coalesce"})
# Word characters for content.body matching (spec: [A-Z], [a-z], [0-9] and _).
_WORD = "A-Za-z0-9_"
_MEMBER_COUNT = re.compile(r"^(==|<=|>=|<|>)?([0-9]+)$")


@dataclass(frozen=True)
class Rule:
    """An enabled rule ready to match: room, sender and content rules carry their implicit
    condition in ``conditions``."""

    kind: str
    rule_id: str
    conditions: tuple
    actions: tuple
    legacy_mention: bool = False


def compile_rule(kind: str, rule: dict) -> Rule:
    rule_id = rule["rule_id"]
    if kind == "content":
        conditions = ({"kind": "event_match", "key": "content.body", "pattern": rule["pattern"]},)
    elif kind == "room":
        conditions = ({"kind": "event_property_is", "key": "room_id", "value": rule_id},)
    elif kind == "sender":
        conditions = ({"kind": "event_property_is", "key": "sender", "value": rule_id},)
    else:
        conditions = tuple(rule.get("conditions") or ())
    return Rule(kind, rule_id, conditions, tuple(clean_actions(rule.get("actions", []))),
                rule_id in LEGACY_MENTION_RULES)


# --- actions ------------------------------------------------------------------------------------

def clean_actions(actions: list) -> list:
    """Actions without the historical ``dont_notify`` and ``coalesce`` (which mean nothing)."""
    return [a for a in actions if not (isinstance(a, str) and a in HISTORICAL_ACTIONS)]


def notifies(actions) -> bool:
    return "notify" in actions


def tweaks(actions) -> dict:
    """The tweaks set by the actions; ``highlight`` without a value means true."""
    out = {}
    for action in actions:
        if isinstance(action, dict) and isinstance(action.get("set_tweak"), str):
            name = action["set_tweak"]
            if "value" in action:
                out[name] = action["value"]
            elif name == "highlight":
                out[name] = True
    return out


def highlights(actions) -> bool:
    return tweaks(actions).get("highlight") is True


# --- paths and globs ----------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def split_path(path: str) -> tuple[str, ...]:
    """``content.m\\.relates_to.rel_type`` -> ("content", "m.relates_to", "rel_type")
    (appendices: Dot-separated property paths; ``\\.`` and ``\\\\`` escape, others stay)."""
    parts, current, i = [], [], 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path) and path[i + 1] in ".\\":
            current.append(path[i + 1])
            i += 2
            continue
        if char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


_ABSENT = object()


def lookup(event: dict, path: str):
    value = event
    for part in split_path(path):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _glob_body(pattern: str) -> str:
    return "".join(".*?" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=8192)
def glob_regex(pattern: str, words: bool) -> re.Pattern:
    """A glob (``*`` any run, ``?`` one character), case-insensitive. ``words``: it must match a
    substring bounded by word boundaries; otherwise the whole value."""
    body = _glob_body(pattern)
    if words:
        return re.compile(rf"(?<![{_WORD}]){body}(?![{_WORD}])", re.IGNORECASE | re.DOTALL)
    return re.compile(rf"{body}\Z", re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=8192)
def _display_name_regex(name: str) -> re.Pattern:
    return re.compile(rf"(?<![{_WORD}]){re.escape(name)}(?![{_WORD}])", re.IGNORECASE)


def _is_simple(value) -> bool:
    return value is None or isinstance(value, (str, int, bool)) and not isinstance(value, float)


def _same(a, b) -> bool:
    """Exact equality of non-compound JSON values: true is not 1, "1" is not 1."""
    return type(a) is type(b) and a == b


def member_count_matches(spec, count: int) -> bool:
    if not isinstance(spec, str):
        return False
    match = _MEMBER_COUNT.match(spec)
    if match is None:
        return False
    op, number = match.group(1) or "==", int(match.group(2))
    return {"==": count == number, "<": count < number, ">": count > number,
            "<=": count <= number, ">=": count >= number}[op]


# --- one event ----------------------------------------------------------------------------------

class EventFacts:
    """What push rules can ask about one event in its room.

    ``sender_level()`` is the sender's power level and ``notification_level(key)`` the level
    ``notifications.<key>`` requires; both are only called when a rule needs them.
    """

    def __init__(self, event: dict, *, member_count: int, sender_level: Callable[[], float],
                 notification_level: Callable[[str], int]):
        self.event = event
        self.member_count = member_count
        self._sender_level = sender_level
        self._notification_level = notification_level
        content = event.get("content")
        self.content = content if isinstance(content, dict) else {}
        self.has_mentions = "m.mentions" in self.content
        body = self.content.get("body")
        self.body = body if isinstance(body, str) else None
        self._cache: dict = {}

    def actions_for(self, rules: list[Rule], user_id: str,
                    display_name: Callable[[], str | None]) -> tuple | None:
        """The actions of the first matching rule, or None when no rule matches."""
        for rule in rules:
            if rule.legacy_mention and self.has_mentions:
                continue
            if all(self._holds(c, user_id, display_name) for c in rule.conditions):
                return rule.actions
        return None

    def _holds(self, condition, user_id: str, display_name) -> bool:
        if not isinstance(condition, dict):
            return False
        kind = condition.get("kind")
        if kind == "contains_display_name":
            return self._contains_display_name(display_name())
        pattern = substitute(condition.get("pattern"), user_id)
        value = substitute(condition.get("value"), user_id)
        key = (kind, condition.get("key"), pattern, type(value).__name__, value,
               condition.get("is"))
        try:
            return self._cache[key]
        except (KeyError, TypeError):
            pass
        result = self._evaluate(kind, condition, pattern, value)
        try:
            self._cache[key] = result
        except TypeError:  # an unhashable value in a malformed condition: just don't memoize
            pass
        return result

    def _evaluate(self, kind, condition, pattern, value) -> bool:
        path = condition.get("key")
        if kind == "event_match":
            if not isinstance(path, str) or not isinstance(pattern, str):
                return False
            found = lookup(self.event, path)
            if not isinstance(found, str):
                return False
            regex = glob_regex(pattern, path == "content.body")
            return bool(regex.search(found) if path == "content.body" else regex.match(found))
        if kind == "event_property_is":
            if not isinstance(path, str) or not _is_simple(value):
                return False
            found = lookup(self.event, path)
            return found is not _ABSENT and _is_simple(found) and _same(found, value)
        if kind == "event_property_contains":
            if not isinstance(path, str) or not _is_simple(value):
                return False
            found = lookup(self.event, path)
            return isinstance(found, list) and any(
                _is_simple(item) and _same(item, value) for item in found)
        if kind == "room_member_count":
            return member_count_matches(condition.get("is"), self.member_count)
        if kind == "sender_notification_permission":
            if not isinstance(path, str):
                return False
            return self._sender_level() >= self._notification_level(path)
        # Unrecognised conditions never match (spec), which disables their rule.
        return False

    def _contains_display_name(self, name: str | None) -> bool:
        if not name or self.body is None:
            return False
        return bool(_display_name_regex(name).search(self.body))
