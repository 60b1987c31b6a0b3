"""OpenID tokens (spec module "OpenID"): a user asks for one to prove who they are to another
service, which exchanges it through the federation API's /openid/userinfo. Only the SHA-256
digest of each token is stored."""

import peewee

from ..db import BaseModel


class OpenIdToken(BaseModel):
    token_digest = peewee.CharField(primary_key=True, max_length=64)
    user_id = peewee.CharField(max_length=255, index=True)
    expires_ts = peewee.BigIntegerField(index=True)
