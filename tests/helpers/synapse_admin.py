"""Helpers of the Synapse admin API tests: the path prefix, an admin account, and the key sets
of Synapse's documented responses (docs/admin_api/*.md) that the answers are compared with."""

import pytest

from homeserver.models.users import User
from helpers.api import q  # noqa: F401  (re-exported for the tests)

SYNAPSE = "/_synapse/admin"

# GET /v2/users entries and GET /v2/users/{userId} (user_admin_api.md).
USER_LIST_ENTRY = {"name", "is_guest", "admin", "user_type", "deactivated", "erased",
                   "shadow_banned", "displayname", "avatar_url", "creation_ts", "approved",
                   "locked", "suspended", "last_seen_ts"}
USER_DETAILS = USER_LIST_ENTRY | {"threepids", "external_ids", "appservice_id",
                                  "consent_server_notice_sent", "consent_version",
                                  "consent_ts"}
DEVICE = {"device_id", "display_name", "last_seen_ip", "last_seen_ts", "last_seen_user_agent",
          "user_id", "dehydrated"}


def make_admin(app, handle):
    with app.app_context():
        User.update(is_admin=True).where(User.user_id == handle.user_id).execute()
    return handle


@pytest.fixture
def root(app, register_user):
    """A server admin (import this fixture into the test module)."""
    return make_admin(app, register_user("root"))


def forbidden(response):
    body = response.get_json()
    assert (response.status_code, body["errcode"]) == (403, "M_FORBIDDEN"), body

# GET /v1/rooms entries and GET /v1/rooms/{roomId} (rooms.md).
ROOM_LIST_ENTRY = {"room_id", "name", "canonical_alias", "joined_members",
                   "joined_local_members", "version", "creator", "encryption", "federatable",
                   "public", "join_rules", "guest_access", "history_visibility",
                   "state_events", "room_type"}
ROOM_DETAILS = ROOM_LIST_ENTRY | {"topic", "avatar", "joined_local_devices", "forgotten"}
SHUTDOWN = {"kicked_users", "failed_to_kick_users", "local_aliases", "new_room_id"}

# user media entries (user_admin_api.md), registration tokens, event reports (event_reports.md).
MEDIA_ENTRY = {"media_id", "media_type", "media_length", "upload_name", "created_ts",
               "last_access_ts", "quarantined_by", "safe_from_quarantine"}
TOKEN = {"token", "uses_allowed", "pending", "completed", "expiry_time"}
EVENT_REPORT = {"id", "received_ts", "room_id", "name", "event_id", "user_id", "reason",
                "score", "sender", "canonical_alias"}
