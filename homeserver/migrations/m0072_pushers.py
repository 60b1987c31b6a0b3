from ..models.push import PushDelivery, Pusher


def up(db):
    db.create_tables([Pusher, PushDelivery])
