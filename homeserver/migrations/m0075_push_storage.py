import peewee

from ..db import add_column_if_missing
from ..models.push import NotifyingEvent, PushRulesVersion


def up(db):
    db.create_tables([NotifyingEvent, PushRulesVersion])
    add_column_if_missing(db, "push_action", "notify", peewee.BooleanField(default=True))
