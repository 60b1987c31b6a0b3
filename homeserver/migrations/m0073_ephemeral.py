from ..models.ephemeral import Receipt, Typing
from ..models.push import PushAction, ReadPosition


def up(db):
    db.create_tables([Typing, Receipt, PushAction, ReadPosition])
