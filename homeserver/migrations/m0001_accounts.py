from ..models.streams import StreamCounter
from ..models.users import (AccessToken, Device, LoginToken, RateLimitBucket, RefreshToken,
                            RegistrationToken, UiaSession, User)


def up(db):
    db.create_tables([User, Device, AccessToken, RefreshToken, LoginToken, UiaSession,
                      RegistrationToken, RateLimitBucket, StreamCounter])
    StreamCounter.insert(id=1, position=0).execute()
