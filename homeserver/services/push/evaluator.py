"""Push rule conditions and rule matching (spec: Push Notifications, Conditions). Pure: no database.

One ``EventFacts`` per event is shared by every recipient. For each distinct rule list (all
members who changed nothing share the default one) it first settles, once, every condition that
does not depend on the member: rules that cannot match are dropped, and only the conditions
naming the member (their user ID, localpart or display name) are left to check per member.
So evaluating the default rules for hundreds of members costs little more than for one.
Each condition that does not depend on the member is compiled, with its rule, into a function
(``_compile_check``) so an event costs no generic dispatch on the condition's kind; a rule that
matches every member reaching it ends the list (when only server-default rules follow).

Globs are matched by ``services/globs.py`` (RE2: linear in the text). Evaluation runs inside
the event writer's transaction, so the glob work of each user-defined rule list on one event is
also bounded by a budget (``glob_budget``, in pattern characters times text characters): past
it, that list's remaining glob conditions do not match. Server-default rules are never counted.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from functools import lru_cache
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
    # The conditions split by whether they depend on the member (``_per_member``), the others
    # compiled into checks (``_compile_check``): once per compiled rule, not once per rule and
    # event. Server-default rules (IDs starting with ".") spend no glob budget.
    checks: tuple = field(init=False, repr=False, compare=False)
    per_member: tuple = field(init=False, repr=False, compare=False)
    server_default: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "checks", tuple(
            _compile_check(c) for c in self.conditions if not _per_member(c)))
        object.__setattr__(self, "per_member",
                           tuple(c for c in self.conditions if _per_member(c)))
        object.__setattr__(self, "server_default", self.rule_id.startswith("."))


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


_COMPARISONS = {"==": operator.eq, "<": operator.lt, ">": operator.gt, "<=": operator.le,
                ">=": operator.ge}


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
                localpart = _localpart(user_id)
                word = _simple_word(localpart)
                if (word in words if word is not None
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
        for index, rule in enumerate(rules):
            if rule.legacy_mention and self.has_mentions:
                continue
            counted = None if rule.server_default else budget
            for check in rule.checks:
                if not check(self, counted):
                    break
            else:
                if all(self._may_hold(c) for c in rule.per_member):
                    plan.append((rule, rule.per_member))
                    # Every member reaching a rule without member conditions matches it, so
                    # the rules after it are never reached: not evaluated, when they are all
                    # server defaults (a user-defined glob's memoized outcome could spare
                    # another rule list's glob budget, so those are still evaluated).
                    if not rule.per_member and all(r.server_default for r in rules[index + 1:]):
                        break
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
        if condition.get("kind") == "contains_display_name":
            return self._contains_display_name(display_name())
        # Only for conditions _members_matching has no set form for (no default rule's): the
        # condition with the member's values compiled for this one use, not memoized.
        return _compile_check(condition, user_id, memo=False)(self, None)

    def _contains_display_name(self, name: str | None) -> bool:
        if not name or self.body is None:
            return False
        word = _simple_word(name)
        if word is not None:
            return word in self._words()
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


# Per member, not per member and event: the same few members receive event after event.
@lru_cache(maxsize=4096)
def _localpart(user_id: str) -> str:
    return substitute(LOCALPART, user_id)


@lru_cache(maxsize=4096)
def _simple_word(text: str) -> str | None:
    """``text`` lowercased when it is made of word characters only (it then matches the body
    exactly when it is one of the body's words, ``EventFacts._words``), else None."""
    return text.lower() if _SIMPLE_WORD.fullmatch(text) else None


# --- compiled conditions --------------------------------------------------------------------------

def _never(facts: EventFacts, budget: list | None) -> bool:
    return False


def _compile_check(condition, user_id: str = "", memo: bool = True
                   ) -> Callable[[EventFacts, list | None], bool]:
    """A condition (its owner's values substituted for ``user_id``) as a function of the
    event's facts and the rule list's glob budget (None: not counted), with its kind and
    parameters looked at once, when the rule is compiled, instead of on every event.

    Glob outcomes are memoized per event under the condition's full description, so an
    identical condition elsewhere (another rule, another member's rule list) reuses it without
    spending budget again; a glob past the budget does not match and is not memoized. A glob
    without wildcards on a whole ASCII value is a case-insensitive comparison (RE2's case
    folding differs from ``str.lower`` only outside ASCII); its budget is spent all the same.
    """
    if not isinstance(condition, dict):
        return _never
    kind = condition.get("kind")
    path = condition.get("key")
    pattern = substitute(condition.get("pattern"), user_id)
    value = substitute(condition.get("value"), user_id)
    if kind == "event_match":
        if not isinstance(path, str) or not isinstance(pattern, str):
            return _never
        if path == "content.body" and _SIMPLE_WORD.fullmatch(pattern):
            word = pattern.lower()
            return lambda facts, budget: (isinstance(facts._lookup(path), str)
                                          and word in facts._words())
        return _glob_check(path, pattern, _memo_key(condition, pattern, value) if memo else None)
    if kind == "event_property_is":
        if not isinstance(path, str) or not _is_simple(value):
            return _never

        def property_is(facts: EventFacts, budget) -> bool:
            found = facts._lookup(path)
            return found is not _ABSENT and _is_simple(found) and _same(found, value)
        return property_is
    if kind == "event_property_contains":
        if not isinstance(path, str) or not _is_simple(value):
            return _never

        def property_contains(facts: EventFacts, budget) -> bool:
            found = facts._lookup(path)
            return isinstance(found, list) and any(
                _is_simple(item) and _same(item, value) for item in found)
        return property_contains
    if kind == "room_member_count":
        spec = condition.get("is")
        match = _MEMBER_COUNT.fullmatch(spec) if isinstance(spec, str) else None
        if match is None:
            return _never
        compare, number = _COMPARISONS[match.group(1) or "=="], int(match.group(2))
        return lambda facts, budget: compare(facts.member_count, number)
    if kind == "sender_notification_permission":
        if not isinstance(path, str):
            return _never

        def permitted(facts: EventFacts, budget) -> bool:
            key = (kind, path)
            try:
                return facts._cache[key]
            except KeyError:
                found = facts._cache[key] = (facts._sender_level()
                                             >= facts._notification_level(path))
                return found
        return permitted
    # Unrecognised conditions never match (spec), which disables their rule.
    return _never


def _memo_key(condition: dict, pattern, value) -> tuple | None:
    key = (condition.get("kind"), condition.get("key"), pattern, type(value).__name__, value,
           condition.get("is"))
    try:
        hash(key)
    except TypeError:  # an unhashable value in a malformed condition: just don't memoize
        return None
    return key


def _glob_check(path: str, pattern: str, key: tuple | None):
    body = path == "content.body"
    literal = (pattern.lower() if not body and pattern.isascii() and "*" not in pattern
               and "?" not in pattern else None)
    weight = len(pattern) + 1  # globs.Matcher.weight, known without compiling the glob

    def glob_matches(facts: EventFacts, budget: list | None) -> bool:
        if key is not None:
            try:
                return facts._cache[key]
            except KeyError:
                pass
        found = facts._lookup(path)
        if not isinstance(found, str):
            result = False
        else:
            if budget is not None:
                cost = weight * (len(found) + 1)
                if cost > budget[0]:
                    return False
                budget[0] -= cost
            if literal is not None and found.isascii():
                result = found.lower() == literal
            else:
                matcher = globs.push_word_glob(pattern) if body else globs.push_glob(pattern)
                result = matcher.matches(facts._encoded(path))
        if key is not None:
            facts._cache[key] = result
        return result
    return glob_matches
