"""Custom profile fields (spec: Profiles, v1.16+). Display name and avatar URL live on User."""

import peewee

from ..db import BaseModel
from .users import User


class ProfileField(BaseModel):
    """One custom field of a user's profile (``m.tz`` or a namespaced key) and its JSON value."""

    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    key = peewee.CharField(max_length=255)
    # The value as JSON text: custom fields may hold any JSON type, null included.
    value = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("user", "key")
