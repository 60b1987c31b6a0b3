"""Request bodies and query arguments of registration, login, account and device endpoints.

``auth`` (the UIA dict) is taken out of bodies before they are validated (see api/uia.py).
Optional strings accept null as "not given": some clients send null for unset fields.
"""

from marshmallow import fields, validate

from . import BodySchema, QuerySchema
from .fields import JsonObject, StrictBoolean, StrictInteger, StrictString


def _optional_string(**kw):
    return StrictString(load_default=None, allow_none=True, **kw)


def _optional_bool():
    return StrictBoolean(load_default=None, allow_none=True)


class RegisterArgs(QuerySchema):
    kind = fields.String(load_default="user", validate=validate.OneOf(["user", "guest"]))


class RegisterBody(BodySchema):
    username = _optional_string()
    password = _optional_string()
    device_id = _optional_string()
    initial_device_display_name = _optional_string()
    inhibit_login = _optional_bool()
    refresh_token = _optional_bool()
    # Upgrading a guest account (spec: Guest Access): the guest's own access token.
    guest_access_token = _optional_string()


class GuestRegisterBody(BodySchema):
    """POST /register?kind=guest: no username or password; the device ID is the server's."""
    initial_device_display_name = _optional_string()
    refresh_token = _optional_bool()


class AppServiceRegisterBody(RegisterBody):
    """POST /register by an application service: ``type`` is m.login.application_service."""
    type = StrictString(required=True)


class UsernameArgs(QuerySchema):
    username = fields.String(required=True)


class TokenArgs(QuerySchema):
    token = fields.String(required=True)


class LoginBody(BodySchema):
    type = StrictString(required=True)
    identifier = JsonObject(load_default=None, allow_none=True)
    user = _optional_string()
    medium = _optional_string()
    address = _optional_string()
    password = _optional_string()
    token = _optional_string()
    device_id = _optional_string()
    initial_device_display_name = _optional_string()
    refresh_token = _optional_bool()


class RefreshBody(BodySchema):
    refresh_token = StrictString(required=True)


class EmptyBody(BodySchema):
    """Bodies whose only meaningful key is ``auth`` (taken out before validation)."""


class ChangePasswordBody(BodySchema):
    # Required, but checked after UIA: a resubmission with only the session carries it hashed.
    new_password = _optional_string()
    logout_devices = StrictBoolean(load_default=True)


class DeactivateBody(BodySchema):
    id_server = _optional_string()
    erase = StrictBoolean(load_default=False)


class UpdateDeviceBody(BodySchema):
    display_name = StrictString(allow_none=True)


class DeleteDevicesBody(BodySchema):
    devices = fields.List(StrictString(), required=True)


class EmailRequestTokenBody(BodySchema):
    client_secret = StrictString(required=True)
    email = StrictString(required=True)
    send_attempt = StrictInteger(required=True)
    next_link = _optional_string()
    id_server = _optional_string()
    id_access_token = _optional_string()


class MsisdnRequestTokenBody(BodySchema):
    client_secret = StrictString(required=True)
    country = StrictString(required=True)
    phone_number = StrictString(required=True)
    send_attempt = StrictInteger(required=True)
    next_link = _optional_string()
    id_server = _optional_string()
    id_access_token = _optional_string()


class ThreepidCredentials(BodySchema):
    client_secret = StrictString(required=True)
    id_server = StrictString(required=True)
    id_access_token = StrictString(required=True)
    sid = StrictString(required=True)


class Post3pidBody(BodySchema):
    three_pid_creds = fields.Nested(ThreepidCredentials, required=True)


class Add3pidBody(BodySchema):
    client_secret = StrictString(required=True)
    sid = StrictString(required=True)


class Delete3pidBody(BodySchema):
    medium = StrictString(required=True, validate=validate.OneOf(["email", "msisdn"]))
    address = StrictString(required=True)
    id_server = _optional_string()

