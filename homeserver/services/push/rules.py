"""Push rules of a user: the server-default rules, the user's own rules and changes to defaults.

The rule set a client sees (GET /pushrules/, the ``m.push_rules`` account data) is, per kind,
in priority order: override = master, the user's overrides, the other default overrides;
content = the user's, then the defaults; room; sender; underride = the user's, then the
defaults. Every change gives ``m.push_rules`` a new stream position so /sync delivers it.

Changes of one user's rules are serialized by a lock on that user's version row
(``push_rules_versions``), taken first in each change's transaction. Globs and rule counts are
bounded by the ``push`` configuration section (``configure``, called when the app is built).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from ... import errors
from ...db import write_transaction
from ...models.push import PushRule, PushRuleDefaultSetting
from .. import globs
from ..userdata import account_data
from . import rules_versions as push_rules_versions
from .default_rules import DEFAULT_RULE_KINDS, DEFAULTS, KINDS, render
from .evaluator import DEFAULT_GLOB_BUDGET, HISTORICAL_ACTIONS, Rule, compile_rule

PUSH_RULES_TYPE = "m.push_rules"
CONDITION_PARAMS = {
    "event_match": {"key": str, "pattern": str},
    "event_property_is": {"key": str},
    "event_property_contains": {"key": str},
    "room_member_count": {"is": str},
    "sender_notification_permission": {"key": str},
}
MAX_RULE_ID_LENGTH = 255


@dataclass(frozen=True)
class Settings:
    max_pattern_length: int = 1000
    max_pattern_wildcards: int = 50
    max_rules_per_user: int = 1000
    max_conditions_per_rule: int = 50
    glob_work_budget: int = DEFAULT_GLOB_BUDGET


_settings = Settings()


def configure(section: dict) -> None:
    global _settings
    _settings = Settings(**{key: section[key] for key in Settings.__dataclass_fields__})


def settings() -> Settings:
    return _settings


# --- reading ------------------------------------------------------------------------------------

def _user_rule_dict(row: PushRule) -> dict:
    rule = {"rule_id": row.rule_id, "default": False, "enabled": row.enabled,
            "actions": json.loads(row.actions)}
    if row.kind in ("override", "underride"):
        rule["conditions"] = json.loads(row.conditions or "[]")
    elif row.kind == "content":
        rule["pattern"] = row.pattern
    return rule


def _merged(user_rows: list[PushRule], settings: dict[str, PushRuleDefaultSetting],
            rendered_for: str | None) -> dict[str, list[dict]]:
    """kind -> rules in priority order. Defaults are rendered for ``rendered_for`` (a user ID),
    or keep their owner sentinels when it is None (the evaluator substitutes them)."""
    by_kind: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for row in sorted(user_rows, key=lambda r: r.priority):
        by_kind[row.kind].append(_user_rule_dict(row))

    def default(rule: dict) -> dict:
        out = render(rule, rendered_for) if rendered_for is not None else dict(rule)
        setting = settings.get(rule["rule_id"])
        if setting is not None:
            if setting.enabled is not None:
                out["enabled"] = setting.enabled
            if setting.actions is not None:
                out["actions"] = json.loads(setting.actions)
        return out

    merged = {}
    for kind in KINDS:
        defaults = [default(rule) for rule in DEFAULTS[kind]]
        if kind == "override":
            merged[kind] = defaults[:1] + by_kind[kind] + defaults[1:]
        else:
            merged[kind] = by_kind[kind] + defaults
    return merged


def _load(user_id: str) -> tuple[list[PushRule], dict[str, PushRuleDefaultSetting]]:
    rows = list(PushRule.select().where(PushRule.user_id == user_id))
    settings = {s.rule_id: s for s in
                PushRuleDefaultSetting.select().where(PushRuleDefaultSetting.user_id == user_id)}
    return rows, settings


def ruleset(user_id: str) -> dict:
    rows, settings = _load(user_id)
    return _merged(rows, settings, user_id)


def account_data_content(user_id: str) -> dict:
    """The content of the ``m.push_rules`` account data event (and of GET /pushrules/)."""
    return {"global": ruleset(user_id)}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise errors.InvalidParam(f"Unknown push rule kind {kind!r}")


def rules_of_kind(user_id: str, kind: str) -> list[dict]:
    """GET /pushrules/global/{kind}/ (not in the spec; Synapse serves it and older clients and
    SyTest read it): the rules of one kind, in priority order. An unknown kind makes it a
    path of nothing: 400 M_UNRECOGNIZED, as any malformed push rule path."""
    if kind not in KINDS:
        raise errors.Unrecognized("Unrecognized push rule path", status=400)
    return ruleset(user_id)[kind]


def _find(user_id: str, kind: str, rule_id: str) -> dict:
    _check_kind(kind)
    for rule in ruleset(user_id)[kind]:
        if rule["rule_id"] == rule_id:
            return rule
    raise errors.NotFound("The push rule was not found")


def get_rule(user_id: str, kind: str, rule_id: str) -> dict:
    return _find(user_id, kind, rule_id)


def get_enabled(user_id: str, kind: str, rule_id: str) -> dict:
    return {"enabled": _find(user_id, kind, rule_id)["enabled"]}


def get_actions(user_id: str, kind: str, rule_id: str) -> dict:
    return {"actions": _find(user_id, kind, rule_id)["actions"]}


# --- validation ---------------------------------------------------------------------------------

def _check_actions(actions) -> list:
    if not isinstance(actions, list):
        raise errors.BadJson("actions must be an array")
    for action in actions:
        if isinstance(action, str):
            if action != "notify" and action not in HISTORICAL_ACTIONS:
                raise errors.BadJson(f"Unrecognised action {action!r}")
        elif isinstance(action, dict):
            if not isinstance(action.get("set_tweak"), str):
                raise errors.BadJson("An action object must have a string set_tweak")
        else:
            raise errors.BadJson("Each action must be a string or an object")
    # Historical actions mean nothing: they are not stored (spec: Historical Actions).
    return [a for a in actions if not (isinstance(a, str) and a in HISTORICAL_ACTIONS)]


def _check_pattern(pattern: str) -> None:
    limits = globs.Limits(_settings.max_pattern_length, _settings.max_pattern_wildcards)
    problem = globs.limit_problem(pattern, limits)
    if problem is not None:
        raise errors.InvalidParam(f"Pattern refused: {problem}")


def _check_conditions(conditions) -> list:
    if not isinstance(conditions, list):
        raise errors.BadJson("conditions must be an array")
    if len(conditions) > _settings.max_conditions_per_rule:
        raise errors.InvalidParam(
            f"A rule may have at most {_settings.max_conditions_per_rule} conditions")
    for condition in conditions:
        if not isinstance(condition, dict) or not isinstance(condition.get("kind"), str):
            raise errors.BadJson("Each condition must be an object with a string kind")
        for param, expected in CONDITION_PARAMS.get(condition["kind"], {}).items():
            if not isinstance(condition.get(param), expected):
                raise errors.BadJson(f"{condition['kind']} conditions need a string {param}")
        if condition["kind"] == "event_match":
            _check_pattern(condition["pattern"])
        if condition["kind"] in ("event_property_is", "event_property_contains"):
            value = condition.get("value", ...)
            if value is ... or not (value is None or isinstance(value, (str, int, bool))):
                raise errors.BadJson(f"{condition['kind']} conditions need a value that is a "
                                     "string, integer, boolean or null")
    return conditions


def _check_user_rule_id(rule_id: str) -> None:
    if rule_id.startswith("."):
        raise errors.InvalidParam("Rule IDs starting with '.' are reserved for server-default "
                                  "rules")
    if "/" in rule_id or "\\" in rule_id:
        raise errors.InvalidParam("Rule IDs may not contain slashes or backslashes")
    if not rule_id or len(rule_id) > MAX_RULE_ID_LENGTH:
        raise errors.InvalidParam(f"Rule IDs must be 1 to {MAX_RULE_ID_LENGTH} characters")


# --- writing ------------------------------------------------------------------------------------

def put_rule(user_id: str, kind: str, rule_id: str, body: dict, *, before: str | None = None,
             after: str | None = None) -> None:
    """PUT /pushrules/global/{kind}/{ruleId}: create or replace a user-defined rule."""
    _check_kind(kind)
    _check_user_rule_id(rule_id)
    if "actions" not in body:
        raise errors.BadJson("Missing actions")
    actions = _check_actions(body["actions"])
    conditions = pattern = None
    if kind in ("override", "underride"):
        conditions = _check_conditions(body.get("conditions", []))
    elif kind == "content":
        pattern = body.get("pattern")
        if not isinstance(pattern, str):
            raise errors.BadJson("Content rules need a string pattern")
        _check_pattern(pattern)
    anchor = before if before is not None else after
    if anchor is not None and anchor.startswith("."):
        raise errors.Unknown("A rule cannot be placed relative to a server-default rule")
    with write_transaction():
        push_rules_versions.lock_user(user_id)
        rows = sorted(PushRule.select().where((PushRule.user_id == user_id)
                                              & (PushRule.kind == kind)),
                      key=lambda r: r.priority)
        ids = [r.rule_id for r in rows]
        existing = next((r for r in rows if r.rule_id == rule_id), None)
        if existing is None and PushRule.select().where(
                PushRule.user_id == user_id).count() >= _settings.max_rules_per_user:
            raise errors.UserLimitExceeded(
                f"A user may have at most {_settings.max_rules_per_user} push rules")
        if anchor is not None:
            if anchor not in ids or anchor == rule_id:
                raise errors.Unknown(f"before/after rule not found: {anchor}")
            if existing is not None:
                ids.remove(rule_id)
            index = ids.index(anchor)
            ids.insert(index if before is not None else index + 1, rule_id)
        elif existing is None:
            ids.insert(0, rule_id)
        enabled = {r.rule_id: r.enabled for r in rows}
        data = {r.rule_id: (r.conditions, r.pattern, r.actions) for r in rows}
        data[rule_id] = (json.dumps(conditions) if conditions is not None else None, pattern,
                         json.dumps(actions))
        PushRule.delete().where((PushRule.user_id == user_id) & (PushRule.kind == kind)).execute()
        PushRule.insert_many([
            {"user_id": user_id, "kind": kind, "rule_id": rid, "priority": index,
             "conditions": data[rid][0], "pattern": data[rid][1], "actions": data[rid][2],
             "enabled": enabled.get(rid, True)}
            for index, rid in enumerate(ids)]).execute()
        _changed(user_id)


def _changed(user_id: str) -> None:
    account_data.bump(user_id, PUSH_RULES_TYPE)
    push_rules_versions.note_change(user_id)


def delete_rule(user_id: str, kind: str, rule_id: str) -> None:
    _find(user_id, kind, rule_id)
    if rule_id in DEFAULT_RULE_KINDS:
        raise errors.InvalidParam("Server-default rules cannot be deleted")
    with write_transaction():
        push_rules_versions.lock_user(user_id)
        _find(user_id, kind, rule_id)
        PushRule.delete().where((PushRule.user_id == user_id) & (PushRule.kind == kind)
                                & (PushRule.rule_id == rule_id)).execute()
        _changed(user_id)


def _set_default(user_id: str, rule_id: str, **values) -> None:
    (PushRuleDefaultSetting.insert(user_id=user_id, rule_id=rule_id, **values)
     .on_conflict(conflict_target=[PushRuleDefaultSetting.user_id,
                                   PushRuleDefaultSetting.rule_id],
                  update={getattr(PushRuleDefaultSetting, k): v for k, v in values.items()})
     .execute())


def set_enabled(user_id: str, kind: str, rule_id: str, enabled: bool) -> None:
    with write_transaction():
        push_rules_versions.lock_user(user_id)
        rule = _find(user_id, kind, rule_id)
        if rule["default"]:
            _set_default(user_id, rule_id, enabled=enabled)
        else:
            PushRule.update(enabled=enabled).where(
                (PushRule.user_id == user_id) & (PushRule.kind == kind)
                & (PushRule.rule_id == rule_id)).execute()
        _changed(user_id)


def set_actions(user_id: str, kind: str, rule_id: str, actions) -> None:
    actions = _check_actions(actions)
    text = json.dumps(actions)
    with write_transaction():
        push_rules_versions.lock_user(user_id)
        rule = _find(user_id, kind, rule_id)
        if rule["default"]:
            _set_default(user_id, rule_id, actions=text)
        else:
            PushRule.update(actions=text).where(
                (PushRule.user_id == user_id) & (PushRule.kind == kind)
                & (PushRule.rule_id == rule_id)).execute()
        _changed(user_id)


# --- for evaluation -----------------------------------------------------------------------------

def _compile(merged: dict[str, list[dict]]) -> list[Rule]:
    return [compile_rule(kind, rule) for kind in KINDS for rule in merged[kind]
            if rule.get("enabled", True)]


_DEFAULT_COMPILED = _compile(_merged([], {}, None))


class _CompiledCache:
    """Compiled rule lists of the users who changed their rules, valid up to ``seq`` of the
    database's rules ``version`` (see push_rules_versions)."""

    def __init__(self, version: int, seq: int, customized: set[str]):
        self.version = version
        self.seq = seq
        self.customized = customized
        self.compiled: dict[str, list[Rule]] = {}
        # user -> the seq at which their entry was last dropped: a list compiled from rows
        # read before that (by a concurrent thread) is not stored.
        self.dropped: dict[str, int] = {}


_cache = _CompiledCache(0, 0, set())
_cache_lock = threading.Lock()


def _current_cache(current: tuple[int, int] | None = None) -> tuple[_CompiledCache, int]:
    """The process's cache brought up to date (one read when nothing changed), and the seq it
    is valid for, read before any rule row is (``current``: (version, seq) when the caller read
    them already, as ``push_rules_versions.current()``)."""
    global _cache
    version, seq = current if current is not None else push_rules_versions.current()
    with _cache_lock:
        cache = _cache
        if cache.version == version and cache.seq >= seq:
            return cache, cache.seq
    if cache.version != version:
        cache = _CompiledCache(version, seq, push_rules_versions.customized_users())
        with _cache_lock:
            if _cache.version != version:
                _cache = cache
            return _cache, _cache.seq
    changed = push_rules_versions.changed_since(cache.seq)
    with _cache_lock:
        for user_id in changed:
            cache.compiled.pop(user_id, None)
            cache.customized.add(user_id)
            cache.dropped[user_id] = max(seq, cache.dropped.get(user_id, 0))
        cache.seq = max(cache.seq, seq)
        return cache, cache.seq


def compiled_rules_for(user_ids: list[str],
                       current: tuple[int, int] | None = None) -> dict[str, list[Rule]]:
    """user ID -> enabled rules in evaluation order (owner values left as sentinels).

    Users who changed nothing share one list. Other users' lists are kept compiled in memory
    and dropped only when that user's rules change (one read checks for changes, or
    ``current``, the (version, seq) of ``push_rules_versions.current()`` the caller read in
    its transaction before any rule row), so a send into a large room does not reload
    everybody's rules.
    """
    cache, seq = _current_cache(current)
    with _cache_lock:
        wanted = [u for u in user_ids if u in cache.customized and u not in cache.compiled]
        out = {u: cache.compiled.get(u, _DEFAULT_COMPILED) for u in user_ids}
    if wanted:
        rows: dict[str, list[PushRule]] = {}
        settings: dict[str, dict[str, PushRuleDefaultSetting]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for row in PushRule.select().where(PushRule.user_id.in_(chunk)):
                rows.setdefault(row.user_id, []).append(row)
            for setting in PushRuleDefaultSetting.select().where(
                    PushRuleDefaultSetting.user_id.in_(chunk)):
                settings.setdefault(setting.user_id, {})[setting.rule_id] = setting
        fresh = {user_id: _compile(_merged(rows.get(user_id, []), settings.get(user_id, {}),
                                           None)) for user_id in wanted}
        out.update(fresh)
        with _cache_lock:
            for user_id, compiled in fresh.items():
                if cache.dropped.get(user_id, 0) <= seq:
                    cache.compiled[user_id] = compiled
    return out
