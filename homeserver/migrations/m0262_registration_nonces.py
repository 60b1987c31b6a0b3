"""Nonces of shared-secret registration (Synapse's /_synapse/admin/v1/register)."""

from ..models.users import RegistrationNonce


def up(db):
    db.create_tables([RegistrationNonce])
