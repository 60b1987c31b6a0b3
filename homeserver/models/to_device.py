"""Send-to-device messages waiting for their recipient device to acknowledge them."""

import peewee

from ..db import BaseModel


class ToDeviceMessage(BaseModel):
    id = peewee.BigAutoField()
    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    # The stream position taken when the message was stored: delivery order and acknowledgement.
    stream_position = peewee.BigIntegerField()
    sender = peewee.CharField(max_length=255)
    type = peewee.CharField(max_length=255)
    content = peewee.TextField()

    class Meta:
        indexes = ((("user_id", "device_id", "stream_position"), False),)
