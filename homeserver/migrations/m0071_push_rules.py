from ..models.push import PushRule, PushRuleDefaultSetting


def up(db):
    db.create_tables([PushRule, PushRuleDefaultSetting])
