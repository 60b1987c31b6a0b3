"""Per-user push rule versions: a change invalidates only its user's compiled rules."""

import peewee

from ..db import add_column_if_missing
from ..models.push import PushRule, PushRuleDefaultSetting, PushRulesUserVersion


def up(db):
    add_column_if_missing(db, "push_rules_version", "seq", peewee.BigIntegerField(default=0))
    db.create_tables([PushRulesUserVersion])
    users = {u for (u,) in PushRule.select(PushRule.user_id).distinct().tuples()}
    users |= {u for (u,) in PushRuleDefaultSetting.select(
        PushRuleDefaultSetting.user_id).distinct().tuples()}
    rows = [{"user_id": u, "seq": 0} for u in sorted(users)]
    for start in range(0, len(rows), 500):
        PushRulesUserVersion.insert_many(rows[start:start + 500]).on_conflict_ignore().execute()
