"""Push rules of a user: the server-default rules, the user's own rules and changes to defaults.

The rule set a client sees (GET /pushrules/, the ``m.push_rules`` account data) is, per kind,
in priority order: override = master, the user's overrides, the other default overrides;
content = the user's, then the defaults; room; sender; underride = the user's, then the
defaults. Every change gives ``m.push_rules`` a new stream position so /sync delivers it.
"""

from __future__ import annotations

import json
import secrets
import threading

from .. import errors
from ..db import write_transaction
from ..models.push import PushRule, PushRuleDefaultSetting, PushRulesVersion
from . import account_data
from .push_evaluator import HISTORICAL_ACTIONS, Rule, compile_rule
from .push_rules_defaults import DEFAULT_RULE_KINDS, DEFAULTS, KINDS, render

PUSH_RULES_TYPE = "m.push_rules"
CONDITION_PARAMS = {
    "event_match": {"key": str, "pattern": str},
    "event_property_is": {"key": str},
    "event_property_contains": {"key": str},
    "room_member_count": {"is": str},
    "sender_notification_permission": {"key": str},
}
MAX_RULE_ID_LENGTH = 255


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


def _check_conditions(conditions) -> list:
    if not isinstance(conditions, list):
        raise errors.BadJson("conditions must be an array")
    for condition in conditions:
        if not isinstance(condition, dict) or not isinstance(condition.get("kind"), str):
            raise errors.BadJson("Each condition must be an object with a string kind")
        for param, expected in CONDITION_PARAMS.get(condition["kind"], {}).items():
            if not isinstance(condition.get(param), expected):
                raise errors.BadJson(f"{condition['kind']} conditions need a string {param}")
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
    anchor = before if before is not None else after
    if anchor is not None and anchor.startswith("."):
        raise errors.Unknown("A rule cannot be placed relative to a server-default rule")
    with write_transaction():
        rows = sorted(PushRule.select().where((PushRule.user_id == user_id)
                                              & (PushRule.kind == kind)),
                      key=lambda r: r.priority)
        ids = [r.rule_id for r in rows]
        existing = next((r for r in rows if r.rule_id == rule_id), None)
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
        account_data.bump(user_id, PUSH_RULES_TYPE)
        _bump_version()


def delete_rule(user_id: str, kind: str, rule_id: str) -> None:
    _find(user_id, kind, rule_id)
    if rule_id in DEFAULT_RULE_KINDS:
        raise errors.InvalidParam("Server-default rules cannot be deleted")
    with write_transaction():
        PushRule.delete().where((PushRule.user_id == user_id) & (PushRule.kind == kind)
                                & (PushRule.rule_id == rule_id)).execute()
        account_data.bump(user_id, PUSH_RULES_TYPE)
        _bump_version()


def _set_default(user_id: str, rule_id: str, **values) -> None:
    (PushRuleDefaultSetting.insert(user_id=user_id, rule_id=rule_id, **values)
     .on_conflict(conflict_target=[PushRuleDefaultSetting.user_id,
                                   PushRuleDefaultSetting.rule_id],
                  update={getattr(PushRuleDefaultSetting, k): v for k, v in values.items()})
     .execute())


def set_enabled(user_id: str, kind: str, rule_id: str, enabled: bool) -> None:
    with write_transaction():
        rule = _find(user_id, kind, rule_id)
        if rule["default"]:
            _set_default(user_id, rule_id, enabled=enabled)
        else:
            PushRule.update(enabled=enabled).where(
                (PushRule.user_id == user_id) & (PushRule.kind == kind)
                & (PushRule.rule_id == rule_id)).execute()
        account_data.bump(user_id, PUSH_RULES_TYPE)
        _bump_version()


def set_actions(user_id: str, kind: str, rule_id: str, actions) -> None:
    actions = _check_actions(actions)
    text = json.dumps(actions)
    with write_transaction():
        rule = _find(user_id, kind, rule_id)
        if rule["default"]:
            _set_default(user_id, rule_id, actions=text)
        else:
            PushRule.update(actions=text).where(
                (PushRule.user_id == user_id) & (PushRule.kind == kind)
                & (PushRule.rule_id == rule_id)).execute()
        account_data.bump(user_id, PUSH_RULES_TYPE)
        _bump_version()


# --- for evaluation -----------------------------------------------------------------------------

def _compile(merged: dict[str, list[dict]]) -> list[Rule]:
    return [compile_rule(kind, rule) for kind in KINDS for rule in merged[kind]
            if rule.get("enabled", True)]


_DEFAULT_COMPILED = _compile(_merged([], {}, None))


class _CompiledCache:
    """Compiled rule lists of the users who changed their rules, for one rules version."""

    def __init__(self, version: int, customized: set[str]):
        self.version = version
        self.customized = customized
        self.compiled: dict[str, list[Rule]] = {}


_cache: _CompiledCache | None = None
_cache_lock = threading.Lock()


def _bump_version() -> None:
    """Call in the transaction of any rule change: every process's compiled cache is stale.
    The new version is random rather than counted, so a database restored from a backup (or
    emptied, as tests do) cannot come back to a version a process has cached."""
    version = secrets.randbits(62)
    (PushRulesVersion.insert(id=1, version=version)
     .on_conflict(conflict_target=[PushRulesVersion.id],
                  update={PushRulesVersion.version: version})
     .execute())


def _current_cache() -> _CompiledCache:
    global _cache
    version = (PushRulesVersion.select(PushRulesVersion.version)
               .where(PushRulesVersion.id == 1).scalar()) or 0
    cache = _cache
    if cache is None or cache.version != version:
        customized = {u for (u,) in PushRule.select(PushRule.user_id).distinct().tuples()}
        customized |= {u for (u,) in PushRuleDefaultSetting.select(
            PushRuleDefaultSetting.user_id).distinct().tuples()}
        cache = _CompiledCache(version, customized)
        with _cache_lock:
            _cache = cache
    return cache


def compiled_rules_for(user_ids: list[str]) -> dict[str, list[Rule]]:
    """user ID -> enabled rules in evaluation order (owner values left as sentinels).

    Users who changed nothing share one list. Other users' lists are kept compiled in memory
    for the current rules version (one read checks it), so a send into a large room does not
    reload everybody's rules.
    """
    cache = _current_cache()
    wanted = [u for u in user_ids if u in cache.customized and u not in cache.compiled]
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
        with _cache_lock:
            for user_id in wanted:
                cache.compiled[user_id] = _compile(_merged(
                    rows.get(user_id, []), settings.get(user_id, {}), None))
    return {user_id: cache.compiled.get(user_id, _DEFAULT_COMPILED) for user_id in user_ids}
