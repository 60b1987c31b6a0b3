"""Third-party identifiers bound through identity servers (services/identity/bindings.py)."""

import peewee

from ..db import BaseModel


class ThreepidBinding(BaseModel):
    """A 3PID this server bound to one of its users at an identity server (POST
    /account/3pid/bind): where to unbind it when the address is deleted, the user asks, or the
    account is deactivated (spec: "Homeservers should track successful binds")."""

    id = peewee.AutoField()
    user_id = peewee.CharField(max_length=255)
    medium = peewee.CharField(max_length=16)
    address = peewee.CharField(max_length=320)
    # host[:port], as the client named it.
    id_server = peewee.CharField(max_length=255)
    added_at = peewee.BigIntegerField()

    class Meta:
        indexes = ((("user_id", "medium", "address", "id_server"), True),)
