from ..models.filters import Filter


def up(db):
    db.create_tables([Filter])
