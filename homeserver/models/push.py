"""Push rules, per-event push actions (notification counts, /notifications) and pushers."""

import peewee

from ..db import BaseModel


class PushRule(BaseModel):
    """A user-defined push rule. ``priority`` orders the rules of one kind: lower comes first."""

    user_id = peewee.CharField(max_length=255)
    kind = peewee.CharField(max_length=16)
    rule_id = peewee.CharField(max_length=255)
    priority = peewee.IntegerField()
    # JSON list of conditions (override/underride), null otherwise.
    conditions = peewee.TextField(null=True)
    # The glob of a content rule, null otherwise.
    pattern = peewee.TextField(null=True)
    actions = peewee.TextField()
    enabled = peewee.BooleanField(default=True)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "kind", "rule_id")


class PushRuleDefaultSetting(BaseModel):
    """A user's change to a server-default rule: enabled and/or actions (null: the default)."""

    user_id = peewee.CharField(max_length=255)
    rule_id = peewee.CharField(max_length=255)
    enabled = peewee.BooleanField(null=True)
    actions = peewee.TextField(null=True)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "rule_id")
