"""Application services: delivery state and stored transactions, per-network room
directories, cached third-party protocol metadata."""

from ..models.appservice import (AppServiceProtocolCache, AppServiceRoomList, AppServiceState,
                                 AppServiceTransaction)


def up(db):
    db.create_tables([AppServiceState, AppServiceTransaction, AppServiceRoomList,
                      AppServiceProtocolCache])
