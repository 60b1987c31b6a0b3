"""3PIDs bound through identity servers (models/identity.py)."""

from ..models.identity import ThreepidBinding


def up(db):
    db.create_tables([ThreepidBinding])
