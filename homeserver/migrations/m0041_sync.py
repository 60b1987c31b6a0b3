from ..models.sync import LazyLoadedMember, StreamWakeHint


def up(db):
    db.create_tables([StreamWakeHint, LazyLoadedMember])
