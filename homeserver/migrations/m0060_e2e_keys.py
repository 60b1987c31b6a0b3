from ..models.keys import (BackedUpRoomKey, CrossSigningKey, DeviceKeys, DeviceListChange,
                           FallbackKey, KeySignature, OneTimeKey, RoomKeysVersion)
from ..models.to_device import ToDeviceMessage


def up(db):
    db.create_tables([DeviceKeys, OneTimeKey, FallbackKey, CrossSigningKey, KeySignature,
                      DeviceListChange, RoomKeysVersion, BackedUpRoomKey, ToDeviceMessage])
