from ..models.account_data import AccountData, IgnoredUser


def up(db):
    db.create_tables([AccountData, IgnoredUser])
