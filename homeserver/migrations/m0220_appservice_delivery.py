"""Delivery state and stored transactions of application services."""

from ..models.appservice import AppServiceState, AppServiceTransaction


def up(db):
    db.create_tables([AppServiceState, AppServiceTransaction])
