"""The endpoints a guest account may call (spec: Guest Access, "Client behaviour"); every other
authenticated endpoint answers a guest 403 M_GUEST_ACCESS_FORBIDDEN. ``require_auth`` (http.py)
asks ``check`` for every guest request: this list is the one place the rule lives.

The spec's list, plus what Synapse also opens to guests and a guest's client needs to read and
take part in a room it joined: relations, threads, space hierarchies, joined members, typing, receipts and read markers, filters, account data, key changes,
TURN credentials, the public room directory and alias lookups, room summaries, logout, capabilities. Endpoints
without authentication (login, register, versions, profiles, the deprecated media downloads)
are open to everyone and never reach this check. (No blueprint here.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .. import errors
from ..services.accounts.access_tokens import Requester

Rule = Callable[[Mapping[str, str], Requester], bool]


def _always(view_args, requester) -> bool:
    return True


def _own_displayname(view_args, requester) -> bool:
    # "Guest users may only modify their display name; other profile fields may not be changed."
    return view_args.get("key_name") == "displayname"


def _not_others_membership(view_args, requester) -> bool:
    # PUT /state may set any state, but a guest's membership changes are its own join and leave
    # (as POST /join and /leave): never an invite, kick or ban of someone else.
    return (view_args.get("event_type") != "m.room.member"
            or view_args.get("state_key") == requester.user_id)


# Flask endpoint ("blueprint.view") -> the condition on the request, beyond being that view.
GUEST_ENDPOINTS: dict[str, Rule] = {
    # Retrieving events and media (spec).
    "rooms.get_state": _always,
    "history.get_context": _always,
    "rooms.get_event": _always,
    "rooms.get_state_event": _always,
    "history.get_messages": _always,
    "rooms.get_members": _always,
    "room_previews.room_initial_sync": _always,
    "sync.sync": _always,
    "legacy_sync.get_events": _always,  # its service refuses a guest without room_id
    "media.download": _always,
    "media.download_named": _always,
    "media.thumbnail": _always,
    # Sending events (spec); joins are checked against m.room.guest_access by the service.
    "membership.join_room_by_id": _always,
    "membership.join_room": _always,
    "membership.leave_room": _always,
    "room_events.send_message": _always,
    "room_events.send_state": _not_others_membership,
    "to_device.send_to_device": _always,
    # Account maintenance (spec).
    "profile.set_profile_field": _own_displayname,
    "profile.delete_profile_field": _own_displayname,
    "devices.list_devices": _always,
    "devices.get_device": _always,
    "devices.update_device": _always,
    "login.whoami": _always,
    # End-to-end encryption (spec).
    "keys.upload_keys": _always,
    "keys.query_keys": _always,
    "keys.claim_keys": _always,
    "keys.key_changes": _always,
    # Reading rooms further (Synapse opens these to guests too; history visibility applies).
    "relations.get_relating_events": _always,
    "threads.get_thread_roots": _always,
    "hierarchy.get_space_hierarchy": _always,
    "rooms.get_joined_members": _always,
    # Taking part in a room (Synapse opens these to guests too).
    "typing.set_typing": _always,
    "receipts.post_receipt": _always,
    "receipts.set_read_markers": _always,
    "filters.define_filter": _always,
    "filters.get_filter": _always,
    "account_data.get_global": _always,
    "account_data.set_global": _always,
    "account_data.get_room": _always,
    "account_data.set_room": _always,
    "voip.turn_server": _always,
    "directory.get_public_rooms": _always,
    "directory.get_room_alias": _always,
    "directory.query_public_rooms": _always,
    "room_summary.get_room_summary": _always,
    "capabilities.get_capabilities": _always,
    "versions.versions": _always,
    "login.logout": _always,
    "login.logout_all": _always,
}


def check(endpoint: str | None, view_args: Mapping[str, str] | None,
          requester: Requester) -> None:
    """Refuse a guest's request to an endpoint not listed (403 M_GUEST_ACCESS_FORBIDDEN)."""
    if not requester.is_guest:
        return
    rule = GUEST_ENDPOINTS.get(endpoint or "")
    if rule is None or not rule(view_args or {}, requester):
        raise errors.GuestAccessForbidden("Guest accounts may not use this endpoint")
