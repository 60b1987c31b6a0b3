"""Send-to-device messages waiting for their recipient device to acknowledge them."""

import peewee

from ..db import BaseModel


class ToDeviceMessage(BaseModel):
    id = peewee.BigAutoField()
    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    # The stream position the message is delivered at: a sync whose ``since`` is at or past it
    # acknowledges it. NULL while it waits behind a full batch (see services/e2ee/to_device.py);
    # delivery order is ``id``.
    stream_position = peewee.BigIntegerField(null=True)
    sender = peewee.CharField(max_length=255)
    type = peewee.CharField(max_length=255)
    content = peewee.TextField()

    class Meta:
        indexes = ((("user_id", "device_id", "stream_position"), False),)
