from ..models.rooms import CurrentState, Event, EventTransaction, Room, RoomAlias


def up(db):
    db.create_tables([Room, Event, CurrentState, EventTransaction, RoomAlias])
