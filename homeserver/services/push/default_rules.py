"""The server-default push rules (spec: Push Notifications, Predefined Rules), in priority order.

These are the rules of spec v1.19 plus the three legacy body-matching mention rules
(``.m.rule.contains_display_name``, ``.m.rule.roomnotif``, ``.m.rule.contains_user_name``):
the spec versions this server advertises in /versions (up to v1.12) still define them, and
clients that do not send ``m.mentions`` rely on them. Following the intentional-mentions rule
(spec v1.7), the evaluator never lets them match an event whose content has ``m.mentions``.
They sit where those spec versions put them.

Values that depend on the rule set's owner are the sentinels ``USER_ID`` and ``LOCALPART``;
``render`` substitutes them for the API and the evaluator substitutes them when matching.
"""

from __future__ import annotations

import copy


class _Sentinel(str):
    """A placeholder for a value that belongs to the rule set's owner."""


USER_ID = _Sentinel("[the user's Matrix ID]")
LOCALPART = _Sentinel("[the local part of the user's Matrix ID]")

LEGACY_MENTION_RULES = frozenset({".m.rule.contains_display_name", ".m.rule.roomnotif",
                                  ".m.rule.contains_user_name"})

MASTER_RULE_ID = ".m.rule.master"

KINDS = ("override", "content", "room", "sender", "underride")

_SOUND_DEFAULT = {"set_tweak": "sound", "value": "default"}
_HIGHLIGHT = {"set_tweak": "highlight"}


def _rule(rule_id, conditions=None, actions=(), *, enabled=True, pattern=None) -> dict:
    rule = {"rule_id": rule_id, "default": True, "enabled": enabled, "actions": list(actions)}
    if pattern is not None:
        rule["pattern"] = pattern
    else:
        rule["conditions"] = conditions or []
    return rule


def _match(key, pattern):
    return {"kind": "event_match", "key": key, "pattern": pattern}


OVERRIDE = [
    _rule(MASTER_RULE_ID, [], [], enabled=False),
    _rule(".m.rule.suppress_notices", [_match("content.msgtype", "m.notice")], []),
    _rule(".m.rule.invite_for_me",
          [_match("type", "m.room.member"), _match("content.membership", "invite"),
           _match("state_key", USER_ID)],
          ["notify", _SOUND_DEFAULT]),
    _rule(".m.rule.member_event", [_match("type", "m.room.member")], []),
    _rule(".m.rule.is_user_mention",
          [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids",
            "value": USER_ID}],
          ["notify", _SOUND_DEFAULT, _HIGHLIGHT]),
    _rule(".m.rule.contains_display_name", [{"kind": "contains_display_name"}],
          ["notify", _SOUND_DEFAULT, _HIGHLIGHT]),
    _rule(".m.rule.is_room_mention",
          [{"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": True},
           {"kind": "sender_notification_permission", "key": "room"}],
          ["notify", _HIGHLIGHT]),
    _rule(".m.rule.roomnotif",
          [_match("content.body", "@room"),
           {"kind": "sender_notification_permission", "key": "room"}],
          ["notify", _HIGHLIGHT]),
    _rule(".m.rule.tombstone",
          [_match("type", "m.room.tombstone"), _match("state_key", "")],
          ["notify", _HIGHLIGHT]),
    _rule(".m.rule.reaction", [_match("type", "m.reaction")], []),
    _rule(".m.rule.room.server_acl",
          [_match("type", "m.room.server_acl"), _match("state_key", "")], []),
    _rule(".m.rule.suppress_edits",
          [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type",
            "value": "m.replace"}],
          []),
]

CONTENT = [
    _rule(".m.rule.contains_user_name", pattern=LOCALPART,
          actions=["notify", _SOUND_DEFAULT, _HIGHLIGHT]),
]

UNDERRIDE = [
    _rule(".m.rule.call", [_match("type", "m.call.invite")],
          ["notify", {"set_tweak": "sound", "value": "ring"}]),
    _rule(".m.rule.encrypted_room_one_to_one",
          [{"kind": "room_member_count", "is": "2"}, _match("type", "m.room.encrypted")],
          ["notify", _SOUND_DEFAULT]),
    _rule(".m.rule.room_one_to_one",
          [{"kind": "room_member_count", "is": "2"}, _match("type", "m.room.message")],
          ["notify", _SOUND_DEFAULT]),
    _rule(".m.rule.message", [_match("type", "m.room.message")], ["notify"]),
    _rule(".m.rule.encrypted", [_match("type", "m.room.encrypted")], ["notify"]),
]

DEFAULTS = {"override": OVERRIDE, "content": CONTENT, "room": [], "sender": [],
            "underride": UNDERRIDE}

# (kind, rule_id) of every server-default rule.
DEFAULT_RULE_KINDS = {rule["rule_id"]: kind for kind, rules in DEFAULTS.items() for rule in rules}


def substitute(value, user_id: str):
    """A sentinel replaced by the owner's value; anything else unchanged."""
    if value is USER_ID:
        return user_id
    if value is LOCALPART:
        return user_id[1:].split(":", 1)[0]
    return value


def render(rule: dict, user_id: str) -> dict:
    """A copy of a rule with the owner's values in place of the sentinels."""
    out = copy.deepcopy(rule)
    if "pattern" in out:
        out["pattern"] = substitute(rule["pattern"], user_id)
    for condition, original in zip(out.get("conditions", ()), rule.get("conditions", ())):
        for key in ("pattern", "value"):
            if key in original:
                condition[key] = substitute(original[key], user_id)
    return out
