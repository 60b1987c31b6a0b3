from ..models.presence import Presence


def up(db):
    db.create_tables([Presence])
