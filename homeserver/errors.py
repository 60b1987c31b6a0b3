"""The standard error response: one exception hierarchy, one place that turns it into JSON.

Every failure a client can see is a ``MatrixError`` (or is converted into one by the handlers
registered in ``register_error_handlers``), so every response body on an error path is
``{"errcode": ..., "error": ..., **extra}`` with ``Content-Type: application/json``.

Codes defined by the spec start with ``M_``; codes of this server's own use the namespace
``OURS`` below (capitals, reverse-DNS, then a single ``_``), as the spec's naming rule asks.
"""

from __future__ import annotations

import logging

# This server's own errcode namespace (spec: "namespace first in ALL CAPS, followed by a single _").
OWN_NAMESPACE = "IO.HOMESERVER"

logger = logging.getLogger(__name__)


class MatrixError(Exception):
    """A failure reported to the client as a standard error response."""

    errcode = "M_UNKNOWN"
    status = 400
    default_message = "An unknown error occurred"

    def __init__(self, message: str | None = None, *, status: int | None = None,
                 headers: dict | None = None, **extra):
        self.message = message or self.default_message
        if status is not None:
            self.status = status
        self.extra = extra
        self.headers = headers or {}
        super().__init__(self.message)

    def to_dict(self) -> dict:
        body = {"errcode": self.errcode, "error": self.message}
        body.update(self.extra)
        return body


# --- common error codes -------------------------------------------------------------------------

class Unknown(MatrixError):
    errcode, status = "M_UNKNOWN", 400


class InternalError(MatrixError):
    errcode, status = "M_UNKNOWN", 500
    default_message = "Internal server error"


class Forbidden(MatrixError):
    errcode, status = "M_FORBIDDEN", 403
    default_message = "Forbidden"


class UnknownToken(MatrixError):
    errcode, status = "M_UNKNOWN_TOKEN", 401
    default_message = "Unrecognised access token"

    def __init__(self, message: str | None = None, *, soft_logout: bool = False, **kw):
        super().__init__(message, soft_logout=soft_logout, **kw)


class MissingToken(MatrixError):
    errcode, status = "M_MISSING_TOKEN", 401
    default_message = "Missing access token"


class UserLocked(MatrixError):
    errcode, status = "M_USER_LOCKED", 401
    default_message = "This account has been locked"

    def __init__(self, message: str | None = None, **kw):
        kw.setdefault("soft_logout", True)
        super().__init__(message, **kw)


class UserSuspended(MatrixError):
    errcode, status = "M_USER_SUSPENDED", 403
    default_message = "This account has been suspended"


class BadJson(MatrixError):
    errcode, status = "M_BAD_JSON", 400
    default_message = "Malformed JSON body"


class NotJson(MatrixError):
    errcode, status = "M_NOT_JSON", 400
    default_message = "Content not JSON"


class NotFound(MatrixError):
    errcode, status = "M_NOT_FOUND", 404
    default_message = "Not found"


class LimitExceeded(MatrixError):
    errcode, status = "M_LIMIT_EXCEEDED", 429
    default_message = "Too many requests"

    def __init__(self, retry_after_ms: int, message: str | None = None):
        seconds = max(1, -(-int(retry_after_ms) // 1000))
        super().__init__(message, retry_after_ms=int(retry_after_ms),
                         headers={"Retry-After": str(seconds)})


class Unrecognized(MatrixError):
    errcode, status = "M_UNRECOGNIZED", 404
    default_message = "Unrecognized request"


class Unauthorized(MatrixError):
    errcode, status = "M_UNAUTHORIZED", 401
    default_message = "Unauthorized"


class UserDeactivated(MatrixError):
    errcode, status = "M_USER_DEACTIVATED", 403
    default_message = "This account has been deactivated"


class ResourceLimitExceeded(MatrixError):
    errcode, status = "M_RESOURCE_LIMIT_EXCEEDED", 403
    default_message = "A resource limit of this server has been reached"


class UserLimitExceeded(MatrixError):
    errcode, status = "M_USER_LIMIT_EXCEEDED", 403
    default_message = "A limit of this account has been reached"


# --- endpoint-specific codes --------------------------------------------------------------------

class UserInUse(MatrixError):
    errcode, status = "M_USER_IN_USE", 400
    default_message = "User ID already taken"


class InvalidUsername(MatrixError):
    errcode, status = "M_INVALID_USERNAME", 400
    default_message = "Invalid user ID"


class Exclusive(MatrixError):
    errcode, status = "M_EXCLUSIVE", 400
    default_message = "This resource is reserved"


class RoomInUse(MatrixError):
    errcode, status = "M_ROOM_IN_USE", 400
    default_message = "Room alias already taken"


class InvalidRoomState(MatrixError):
    errcode, status = "M_INVALID_ROOM_STATE", 400
    default_message = "Invalid initial room state"


class UnsupportedRoomVersion(MatrixError):
    errcode, status = "M_UNSUPPORTED_ROOM_VERSION", 400
    default_message = "Unsupported room version"


class IncompatibleRoomVersion(MatrixError):
    errcode, status = "M_INCOMPATIBLE_ROOM_VERSION", 400
    default_message = "Incompatible room version"


class BadAlias(MatrixError):
    errcode, status = "M_BAD_ALIAS", 400
    default_message = "Room alias does not point to this room"


class BadState(MatrixError):
    errcode, status = "M_BAD_STATE", 400
    default_message = "Bad state"


class MissingParam(MatrixError):
    errcode, status = "M_MISSING_PARAM", 400
    default_message = "Missing parameter"


class UnknownPos(MatrixError):
    """Sliding sync (MSC4186): the ``pos`` is unknown or expired; the client starts afresh."""
    errcode, status = "M_UNKNOWN_POS", 400
    default_message = "Unknown or expired position"


class InvalidParam(MatrixError):
    errcode, status = "M_INVALID_PARAM", 400
    default_message = "Invalid parameter"


class TooLarge(MatrixError):
    errcode, status = "M_TOO_LARGE", 413
    default_message = "Request too large"


class GuestAccessForbidden(MatrixError):
    errcode, status = "M_GUEST_ACCESS_FORBIDDEN", 403
    default_message = "Guest access is not allowed"


class WeakPassword(MatrixError):
    errcode, status = "M_WEAK_PASSWORD", 400
    default_message = "Password is too weak"


class ThreepidAuthFailed(MatrixError):
    errcode, status = "M_THREEPID_AUTH_FAILED", 400
    default_message = "Third-party identifier could not be verified"


class ThreepidDenied(MatrixError):
    errcode, status = "M_THREEPID_DENIED", 403
    default_message = "Third-party identifiers are not supported by this server"


class ThreepidInUse(MatrixError):
    errcode, status = "M_THREEPID_IN_USE", 400
    default_message = "Third-party identifier already in use"


class ThreepidMediumNotSupported(MatrixError):
    errcode, status = "M_THREEPID_MEDIUM_NOT_SUPPORTED", 400
    default_message = "This server does not support third-party identifiers"


class ThreepidNotFound(MatrixError):
    errcode, status = "M_THREEPID_NOT_FOUND", 400
    default_message = "Third-party identifier not found"


class ServerNotTrusted(MatrixError):
    errcode, status = "M_SERVER_NOT_TRUSTED", 400
    default_message = "This server does not trust that identity server"


class IdentityServerUnavailable(MatrixError):
    """The identity server a request named could not be reached or gave no usable answer."""
    errcode, status = f"{OWN_NAMESPACE}_IDENTITY_SERVER_UNAVAILABLE", 502
    default_message = "The identity server could not be reached"


class InvalidToken(MatrixError):
    """Registration-token validity and similar checks (not an access-token failure)."""
    errcode, status = "M_INVALID_PARAM", 400


class CannotOverwriteMedia(MatrixError):
    errcode, status = "M_CANNOT_OVERWRITE_MEDIA", 409
    default_message = "Media already uploaded"


class NotYetUploaded(MatrixError):
    errcode, status = "M_NOT_YET_UPLOADED", 504
    default_message = "Media not yet uploaded"


class WrongRoomKeysVersion(MatrixError):
    errcode, status = "M_WRONG_ROOM_KEYS_VERSION", 403
    default_message = "Wrong backup version"


class UnknownDevice(MatrixError):
    errcode, status = "M_UNKNOWN_DEVICE", 400
    default_message = "Unknown device"


# --- application services (spec: POST /appservice/{appserviceId}/ping) -------------------------

class UrlNotSet(MatrixError):
    errcode, status = "M_URL_NOT_SET", 400
    default_message = "Application service doesn't have a URL configured"


class BadStatus(MatrixError):
    errcode, status = "M_BAD_STATUS", 502
    default_message = "The application service returned a bad status"


class ConnectionFailed(MatrixError):
    errcode, status = "M_CONNECTION_FAILED", 502
    default_message = "The connection to the application service failed"


class ConnectionTimeout(MatrixError):
    errcode, status = "M_CONNECTION_TIMEOUT", 504
    default_message = "Connection to application service timed out"


# --- this server's own codes --------------------------------------------------------------------

class DatabaseBusy(MatrixError):
    """The database stayed locked for longer than the busy timeout; the client may retry."""
    errcode, status = f"{OWN_NAMESPACE}_DATABASE_BUSY", 503
    default_message = "The server is busy, please retry"


class DatabaseUnreachable(MatrixError):
    """The health check could not reach the database (load balancers take this host out)."""
    errcode, status = f"{OWN_NAMESPACE}_DATABASE_UNREACHABLE", 503
    default_message = "The database is not reachable"


def all_error_classes() -> list[type[MatrixError]]:
    """Every MatrixError subclass, for the test that checks errcode namespacing."""
    found, todo = [], [MatrixError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found
