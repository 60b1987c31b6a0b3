from ..models.profile import ProfileField


def up(db):
    db.create_tables([ProfileField])
