"""Request bodies and query arguments of the room, membership, event and directory endpoints."""

from marshmallow import EXCLUDE, INCLUDE, Schema, fields, validate

from .fields import JsonObject, QueryInteger, StrictBoolean, StrictInteger, StrictString


class _Lenient(Schema):
    """Unknown keys are ignored: clients send extra and unstable keys."""

    class Meta:
        unknown = EXCLUDE


class InitialStateEventSchema(_Lenient):
    type = StrictString(required=True, validate=validate.Length(min=1))
    state_key = StrictString(load_default="")
    content = JsonObject(required=True)


class Invite3pidSchema(_Lenient):
    id_server = StrictString(required=True)
    id_access_token = StrictString(required=True)
    medium = StrictString(required=True)
    address = StrictString(required=True)


class CreateRoomSchema(_Lenient):
    visibility = StrictString(load_default="private",
                              validate=validate.OneOf(["public", "private"]))
    preset = StrictString(load_default=None, validate=validate.OneOf(
        ["private_chat", "public_chat", "trusted_private_chat"]))
    room_alias_name = StrictString(load_default=None, validate=validate.Length(min=1))
    name = StrictString(load_default=None)
    topic = StrictString(load_default=None)
    invite = fields.List(StrictString(), load_default=list)
    invite_3pid = fields.List(fields.Nested(Invite3pidSchema), load_default=list)
    room_version = StrictString(load_default=None)
    creation_content = JsonObject(load_default=dict)
    initial_state = fields.List(fields.Nested(InitialStateEventSchema), load_default=list)
    is_direct = StrictBoolean(load_default=False)
    power_level_content_override = JsonObject(load_default=None)


class ReasonSchema(_Lenient):
    reason = StrictString(load_default=None)


class JoinSchema(ReasonSchema):
    third_party_signed = JsonObject(load_default=None)


class TargetSchema(ReasonSchema):
    """invite, kick, ban and unban: the user acted on."""

    user_id = StrictString(required=True)


class InviteSchema(_Lenient):
    """POST /invite has two bodies: by user ID, or by third-party identifier."""

    user_id = StrictString(load_default=None)
    reason = StrictString(load_default=None)
    id_server = StrictString(load_default=None)
    id_access_token = StrictString(load_default=None)
    medium = StrictString(load_default=None)
    address = StrictString(load_default=None)


class RedactSchema(Schema):
    """The redaction's content: `reason`, plus any other keys, kept as given."""

    class Meta:
        unknown = INCLUDE

    reason = StrictString()


class UpgradeSchema(_Lenient):
    new_version = StrictString(required=True)
    additional_creators = fields.List(StrictString(), load_default=list)


class AliasSchema(_Lenient):
    room_id = StrictString(required=True)


class VisibilitySchema(_Lenient):
    visibility = StrictString(load_default="public",
                              validate=validate.OneOf(["public", "private"]))


class StateArgs(_Lenient):
    format = fields.String(load_default="content", validate=validate.OneOf(["content", "event"]))


_MEMBERSHIPS = ["join", "invite", "knock", "leave", "ban"]


class MembersArgs(_Lenient):
    at = fields.String(load_default=None)
    membership = fields.String(load_default=None, validate=validate.OneOf(_MEMBERSHIPS))
    not_membership = fields.String(load_default=None, validate=validate.OneOf(_MEMBERSHIPS))


class PublicRoomsArgs(_Lenient):
    limit = QueryInteger(load_default=None, validate=validate.Range(min=0))
    since = fields.String(load_default=None)
    server = fields.String(load_default=None)


class PublicRoomsFilterSchema(_Lenient):
    generic_search_term = StrictString(load_default=None)
    room_types = fields.List(StrictString(allow_none=True), load_default=None)


class PublicRoomsBodySchema(_Lenient):
    limit = StrictInteger(load_default=None, validate=validate.Range(min=0))
    since = StrictString(load_default=None)
    filter = fields.Nested(PublicRoomsFilterSchema, load_default=None)
    include_all_networks = StrictBoolean(load_default=False)
    third_party_instance_id = StrictString(load_default=None)
