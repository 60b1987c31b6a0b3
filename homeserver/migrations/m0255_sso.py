"""Login through OpenID Connect providers: external IDs of users and logins in progress."""

from ..models.sso import SsoAttempt, SsoPendingRegistration, UserExternalId


def up(db):
    db.create_tables([UserExternalId, SsoAttempt, SsoPendingRegistration])
