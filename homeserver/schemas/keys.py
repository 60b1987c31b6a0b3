"""Request bodies of the end-to-end encryption endpoints (keys, cross-signing, key backup,
send-to-device)."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import JsonObject, JsonValue, StrictBoolean, StrictInteger, StrictString


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


class KeysUploadSchema(_Body):
    device_keys = JsonObject(load_default=None, allow_none=True)
    one_time_keys = JsonObject(load_default=None, allow_none=True)
    fallback_keys = JsonObject(load_default=None, allow_none=True)


class KeysQuerySchema(_Body):
    device_keys = fields.Dict(keys=StrictString(), values=fields.List(StrictString()),
                              required=True)
    timeout = StrictInteger(load_default=None, allow_none=True)


class KeysClaimSchema(_Body):
    one_time_keys = fields.Dict(keys=StrictString(),
                                values=fields.Dict(keys=StrictString(), values=StrictString()),
                                required=True)
    timeout = StrictInteger(load_default=None, allow_none=True)


class KeysChangesArgs(_Body):
    from_ = StrictString(required=True, data_key="from")
    to = StrictString(required=True)


class CrossSigningUploadSchema(_Body):
    master_key = JsonObject(load_default=None, allow_none=True)
    self_signing_key = JsonObject(load_default=None, allow_none=True)
    user_signing_key = JsonObject(load_default=None, allow_none=True)
    auth = JsonObject(load_default=None, allow_none=True)


class BackupVersionCreateSchema(_Body):
    # Any algorithm: one this server does not know is stored opaquely (auth_data whatever JSON
    # it is), as Synapse does; services/e2ee/key_backup.py checks the known algorithm's object.
    algorithm = StrictString(required=True)
    auth_data = JsonValue(required=True)


class BackupVersionUpdateSchema(_Body):
    algorithm = StrictString(required=True)
    auth_data = JsonValue(required=True)
    version = StrictString(load_default=None, allow_none=True)


class KeyBackupDataSchema(_Body):
    first_message_index = StrictInteger(required=True, validate=validate.Range(min=0))
    forwarded_count = StrictInteger(required=True, validate=validate.Range(min=0))
    is_verified = StrictBoolean(required=True)
    session_data = JsonValue(required=True)  # an object for the known algorithm


class RoomKeyBackupSchema(_Body):
    sessions = fields.Dict(keys=StrictString(), values=fields.Nested(KeyBackupDataSchema),
                           required=True)


class RoomKeysBackupSchema(_Body):
    rooms = fields.Dict(keys=StrictString(), values=fields.Nested(RoomKeyBackupSchema),
                        required=True)


class BackupVersionArgs(_Body):
    version = StrictString(required=True)


class SendToDeviceSchema(_Body):
    messages = fields.Dict(keys=StrictString(),
                           values=fields.Dict(keys=StrictString(), values=JsonObject()),
                           required=True)
