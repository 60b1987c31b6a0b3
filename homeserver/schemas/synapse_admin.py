"""Query arguments and bodies of the Synapse admin API paths (``/_synapse/admin/...``), with
Synapse's names and defaults so that operators' tools send what they already send."""

from marshmallow import fields, validate

from . import BodySchema, QuerySchema
from .fields import QueryBoolean, QueryInteger, StrictBoolean, StrictInteger, StrictString

# A page never holds more than this many rows, whatever ``limit`` asks for.
MAX_PAGE = 1000
DIRECTIONS = validate.OneOf(["f", "b"])


class PageArgs(QuerySchema):
    """Synapse's offset paging: ``from`` (an offset), ``limit`` and ``dir``."""

    offset = QueryInteger(load_default=0, data_key="from", validate=validate.Range(min=0))
    limit = QueryInteger(load_default=100, validate=validate.Range(min=0))
    dir = fields.String(load_default="f", validate=DIRECTIONS)


USER_ORDERS = ("name", "is_guest", "admin", "user_type", "deactivated", "shadow_banned",
               "displayname", "avatar_url", "creation_ts", "last_seen_ts", "locked")


class UserListArgs(PageArgs):
    user_id = fields.String(load_default=None)
    name = fields.String(load_default=None)
    guests = QueryBoolean(load_default=True)
    admins = QueryBoolean(load_default=None)
    deactivated = QueryBoolean(load_default=False)
    locked = QueryBoolean(load_default=False)
    order_by = fields.String(load_default="name", validate=validate.OneOf(USER_ORDERS))


class _EmptyList(fields.List):
    """Third-party and external IDs: this server keeps none, so only an empty list is taken."""

    def __init__(self, **kwargs):
        super().__init__(fields.Raw(), validate=validate.Length(max=0,
                         error="this server does not store third-party or external IDs"),
                         **kwargs)


class UserBody(BodySchema):
    """PUT /_synapse/admin/v2/users/{userId}: create or modify an account."""

    password = StrictString(load_default=None, allow_none=True)
    logout_devices = StrictBoolean(load_default=True)
    displayname = StrictString(load_default=None, allow_none=True)
    avatar_url = StrictString(load_default=None, allow_none=True)
    admin = StrictBoolean(load_default=None, allow_none=True)
    deactivated = StrictBoolean(load_default=None, allow_none=True)
    erase = StrictBoolean(load_default=False)
    locked = StrictBoolean(load_default=None, allow_none=True)
    threepids = _EmptyList(load_default=None, allow_none=True)
    external_ids = _EmptyList(load_default=None, allow_none=True)


class SharedSecretRegisterBody(BodySchema):
    nonce = StrictString(required=True, validate=validate.Length(max=64))
    username = StrictString(required=True, validate=validate.Length(min=1, max=255))
    password = StrictString(required=True)
    admin = StrictBoolean(load_default=False)
    displayname = StrictString(load_default=None, allow_none=True)
    mac = StrictString(required=True, validate=validate.Length(max=128))
    user_type = StrictString(load_default=None, allow_none=True,
                             validate=validate.Equal(None, error="user types are not supported"))


class DeactivateBody(BodySchema):
    erase = StrictBoolean(load_default=False)


class ResetPasswordBody(BodySchema):
    new_password = StrictString(required=True)
    logout_devices = StrictBoolean(load_default=True)


class DeleteDevicesBody(BodySchema):
    devices = fields.List(StrictString(), required=True, validate=validate.Length(max=1000))


ROOM_ORDERS = ("name", "alphabetical", "size", "joined_members", "joined_local_members",
               "canonical_alias", "version", "creator", "encryption", "public", "join_rules",
               "guest_access", "history_visibility", "state_events")


class RoomListArgs(PageArgs):
    order_by = fields.String(load_default="name", validate=validate.OneOf(ROOM_ORDERS))
    search_term = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    public_rooms = QueryBoolean(load_default=None)
    empty_rooms = QueryBoolean(load_default=None)


class DeleteRoomBody(BodySchema):
    block = StrictBoolean(load_default=False)
    purge = StrictBoolean(load_default=True)
    force_purge = StrictBoolean(load_default=False)
    message = StrictString(load_default=None, allow_none=True)
    new_room_user_id = StrictString(load_default=None, allow_none=True)


class BlockRoomBody(BodySchema):
    block = StrictBoolean(required=True)


class MediaListArgs(PageArgs):
    order_by = fields.String(load_default="created_ts", validate=validate.OneOf(
        ("media_id", "upload_name", "created_ts", "last_access_ts", "media_length",
         "media_type", "quarantined_by", "safe_from_quarantine")))


class EventReportArgs(PageArgs):
    dir = fields.String(load_default="b", validate=DIRECTIONS)
    room_id = fields.String(load_default=None)
    user_id = fields.String(load_default=None)


class TokenListArgs(QuerySchema):
    valid = QueryBoolean(load_default=None)


class NewTokenBody(BodySchema):
    token = StrictString(load_default=None)
    uses_allowed = StrictInteger(load_default=None, allow_none=True,
                                 validate=validate.Range(min=0))
    expiry_time = StrictInteger(load_default=None, allow_none=True)
    length = StrictInteger(load_default=16, validate=validate.Range(min=1, max=64))


class UpdateTokenBody(BodySchema):
    uses_allowed = StrictInteger(allow_none=True, validate=validate.Range(min=0))
    expiry_time = StrictInteger(allow_none=True)
