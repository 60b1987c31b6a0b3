"""Erased accounts (POST /account/deactivate with erase: true)."""

from ..models.erasure import ErasedUser


def up(db):
    db.create_tables([ErasedUser])
