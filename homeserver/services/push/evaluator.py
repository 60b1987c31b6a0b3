"""Push rule conditions and rule matching (spec: Push Notifications, Conditions). Pure: no database.

One ``EventFacts`` per event is shared by every recipient. For each distinct rule list (all
members who changed nothing share the default one) it first settles, once, every condition that
does not depend on the member: rules that cannot match are dropped, and only the conditions
naming the member (their user ID, localpart or display name) are left to check per member.
So evaluating the default rules for hundreds of members costs little more than for one.

Globs are matched by ``services/globs.py`` (RE2: linear in the text). Evaluation runs inside
the event writer's transaction, so the glob work of each user-defined rule list on one event is
also bounded by a budget (``glob_budget``, in pattern characters times text characters): past
it, that list's remaining glob conditions do not match. Server-default rules are never counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ...property_paths import split_property_path
from .. import globs
from .default_rules import LEGACY_MENTION_RULES, LOCALPART, USER_ID, substitute

HISTORICAL_ACTIONS = frozenset({"dont_notify", "coalesce"})
# Glob work allowed per user-defined rule list and event (pattern chars x text chars): at most
# about 0.25 s in RE2's slowest mode (bench/bench_globs.py); a hundred 10-character wildcard
# keywords on a 4 KB body need 4.4 million.
DEFAULT_GLOB_BUDGET = 5_000_000
_WORD = globs.WORD_CLASS
_MEMBER_COUNT = re.compile(r"(==|<=|>=|<|>)?([0-9]+)")
_WORD_RUN = re.compile(f"[{_WORD}]+")
_SIMPLE_WORD = re.compile(f"[{_WORD}]+")


@dataclass(frozen=True)
class Rule:
    """An enabled rule ready to match: room, sender and content rules carry their implicit
    condition in ``conditions``."""

    kind: str
    rule_id: str
    conditions: tuple
    actions: tuple
    legacy_mention: bool = False
    # The conditions split by whether they depend on the member (``_per_member``): once per
    # compiled rule, not once per rule and event.
    shared: tuple = field(init=False, repr=False, compare=False)
    per_member: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "shared",
                           tuple(c for c in self.conditions if not _per_member(c)))
        object.__setattr__(self, "per_member",
                           tuple(c for c in self.conditions if _per_member(c)))


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

_ABSENT = object()


def lookup(event: dict, path: str):
    value = event
    for part in split_property_path(path):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _is_simple(value) -> bool:
    return value is None or isinstance(value, (str, int, bool)) and not isinstance(value, float)


def _same(a, b) -> bool:
    """Exact equality of non-compound JSON values: true is not 1, "1" is not 1."""
    return type(a) is type(b) and a == b


def member_count_matches(spec, count: int) -> bool:
    if not isinstance(spec, str):
        return False
    match = _MEMBER_COUNT.fullmatch(spec)
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
                 notification_level: Callable[[str], int],
                 glob_budget: int = DEFAULT_GLOB_BUDGET):
        self.event = event
        self.glob_budget = glob_budget
        self.member_count = member_count
        self._sender_level = sender_level
        self._notification_level = notification_level
        content = event.get("content")
        self.content = content if isinstance(content, dict) else {}
        self.has_mentions = "m.mentions" in self.content
        body = self.content.get("body")
        self.body = body if isinstance(body, str) else None
        self._cache: dict = {}
        self._plans: dict = {}
        self._lookups: dict = {}
        self._encodings: dict = {}
        self._body_words: frozenset | None = None

    def actions_for(self, rules: list[Rule], user_id: str,
                    display_name: Callable[[], str | None]) -> tuple | None:
        """The actions of the first matching rule, or None when no rule matches."""
        for rule, per_member in self._plan(rules):
            if all(self._member_holds(c, user_id, display_name) for c in per_member):
                return rule.actions
        return None

    def actions_by_user(self, rules_by_user: dict[str, list[Rule]],
                        display_names: Callable[[], dict[str, str | None]]
                        ) -> dict[str, tuple | None]:
        """``actions_for`` of many users at once: users sharing a rule list are settled
        together with set operations, member by member only where a condition names them.
        ``display_names()`` (called only if needed) maps users to their display name."""
        groups: dict[int, tuple[list[Rule], list[str]]] = {}
        for user_id, rules in rules_by_user.items():
            groups.setdefault(id(rules), (rules, []))[1].append(user_id)
        out: dict[str, tuple | None] = {}
        for rules, users in groups.values():
            remaining = set(users)
            for rule, per_member in self._plan(rules):
                matched = remaining
                for condition in per_member:
                    matched = matched & self._members_matching(condition, matched,
                                                               display_names)
                    if not matched:
                        break
                for user_id in matched:
                    out[user_id] = rule.actions
                remaining = remaining - matched
                if not remaining:
                    break
            for user_id in remaining:
                out[user_id] = None
        return out

    def _members_matching(self, condition: dict, users: set[str], display_names) -> set[str]:
        """Those of ``users`` for whom a member-dependent condition holds."""
        kind = condition.get("kind")
        if kind == "contains_display_name":
            names = display_names()
            return {u for u in users if self._contains_display_name(names.get(u))}
        path = condition.get("key")
        pattern, value = condition.get("pattern"), condition.get("value")
        found = self._lookup(path) if isinstance(path, str) else _ABSENT
        if kind == "event_property_contains" and value is USER_ID and isinstance(found, list):
            return users.intersection(item for item in found if isinstance(item, str))
        if kind == "event_property_is" and value is USER_ID:
            return users & {found} if isinstance(found, str) else set()
        if kind == "event_match" and pattern is LOCALPART and path == "content.body":
            words = self._words()
            out = set()
            for user_id in users:
                localpart = substitute(LOCALPART, user_id)
                if (localpart.lower() in words if _SIMPLE_WORD.fullmatch(localpart)
                        else globs.push_word_glob(localpart).matches(found)):
                    out.add(user_id)
            return out
        if kind == "event_match" and pattern is USER_ID and path != "content.body" \
                and isinstance(found, str):
            folded = found.lower()
            return {u for u in users if u.lower() == folded
                    or (("*" in u or "?" in u) and globs.push_glob(u).matches(found))}
        return {u for u in users
                if self._member_holds(condition, u, lambda u=u: display_names().get(u))}

    def _plan(self, rules: list[Rule]) -> list[tuple[Rule, tuple]]:
        """The rules that may still match, each with its conditions that depend on the member;
        computed once per rule list (keyed by identity: the lists are shared and kept alive)."""
        entry = self._plans.get(id(rules))
        if entry is not None and entry[0] is rules:
            return entry[1]
        plan = []
        budget = [self.glob_budget]  # shared by this list's user-defined rules
        for rule in rules:
            if rule.legacy_mention and self.has_mentions:
                continue
            counted = None if rule.rule_id.startswith(".") else budget
            if all(self._holds(c, "", _no_name, counted) for c in rule.shared) and all(
                    self._may_hold(c) for c in rule.per_member):
                plan.append((rule, rule.per_member))
        self._plans[id(rules)] = (rules, plan)
        return plan

    def _may_hold(self, condition: dict) -> bool:
        """False when a member-dependent condition cannot hold for anyone (e.g. the property
        it reads is absent), so its rule is dropped before looking at members."""
        kind = condition.get("kind")
        if kind == "contains_display_name":
            return self.body is not None
        path = condition.get("key")
        if not isinstance(path, str):
            return False
        found = self._lookup(path)
        if kind == "event_match":
            return isinstance(found, str)
        if kind == "event_property_contains":
            return isinstance(found, list)
        return found is not _ABSENT

    def _member_holds(self, condition: dict, user_id: str, display_name) -> bool:
        kind = condition.get("kind")
        if kind == "contains_display_name":
            return self._contains_display_name(display_name())
        return self._evaluate(kind, condition, substitute(condition.get("pattern"), user_id),
                              substitute(condition.get("value"), user_id))

    def _holds(self, condition, user_id: str, display_name, budget: list | None = None) -> bool:
        """Whether a condition holds (memoized per event). ``budget``: the glob work the rule
        list may still spend; a glob past it does not match (and is not memoized)."""
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
        result = self._evaluate(kind, condition, pattern, value, budget)
        if result is None:
            return False
        try:
            self._cache[key] = result
        except TypeError:  # an unhashable value in a malformed condition: just don't memoize
            pass
        return result

    def _evaluate(self, kind, condition, pattern, value, budget: list | None = None
                  ) -> bool | None:
        """The condition's outcome; None when ``budget`` does not cover its glob."""
        path = condition.get("key")
        if kind == "event_match":
            if not isinstance(path, str) or not isinstance(pattern, str):
                return False
            found = self._lookup(path)
            if not isinstance(found, str):
                return False
            if path == "content.body" and _SIMPLE_WORD.fullmatch(pattern):
                return pattern.lower() in self._words()
            matcher = (globs.push_word_glob(pattern) if path == "content.body"
                       else globs.push_glob(pattern))
            if budget is not None:
                cost = matcher.weight * (len(found) + 1)
                if cost > budget[0]:
                    return None
                budget[0] -= cost
            return matcher.matches(self._encoded(path))
        if kind == "event_property_is":
            if not isinstance(path, str) or not _is_simple(value):
                return False
            found = self._lookup(path)
            return found is not _ABSENT and _is_simple(found) and _same(found, value)
        if kind == "event_property_contains":
            if not isinstance(path, str) or not _is_simple(value):
                return False
            found = self._lookup(path)
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
        if _SIMPLE_WORD.fullmatch(name):
            return name.lower() in self._words()
        return globs.word_literal(name).matches(self._encoded("content.body"))

    def _lookup(self, path: str):
        try:
            return self._lookups[path]
        except KeyError:
            found = self._lookups[path] = lookup(self.event, path)
            return found

    def _encoded(self, path: str) -> bytes:
        """The string at ``path`` as the matchers take it, encoded once per event."""
        try:
            return self._encodings[path]
        except KeyError:
            found = self._encodings[path] = globs.encode(self._lookup(path))
            return found

    def _words(self) -> frozenset:
        """The body's maximal runs of word characters, lowercased: a pattern made only of word
        characters matches at word boundaries exactly when it is one of them."""
        if self._body_words is None:
            self._body_words = frozenset(w.lower() for w in _WORD_RUN.findall(self.body or ""))
        return self._body_words


def _per_member(condition) -> bool:
    """Whether a condition's outcome depends on whose rules are evaluated."""
    if not isinstance(condition, dict):
        return False
    if condition.get("kind") == "contains_display_name":
        return True
    return any(condition.get(k) is USER_ID or condition.get(k) is LOCALPART
               for k in ("pattern", "value"))


def _no_name() -> None:
    return None
