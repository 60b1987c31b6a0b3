"""GET /capabilities: what this server lets the requesting user do (spec: Capabilities
negotiation). Each entry reflects an endpoint that is built, or a refusal the server makes."""

from __future__ import annotations

from ..rooms import room_versions


def _flag(enabled: bool) -> dict:
    return {"enabled": enabled}


def capabilities(requester, *, email: bool = False) -> dict:
    """``email``: this server sends mail (the ``email`` configuration), so addresses can be
    added to accounts."""
    # A suspended user may not change their profile (spec: Account suspension), so the profile
    # capabilities say so for them.
    can_edit_profile = not requester.is_suspended
    return {
        "m.change_password": _flag(True),
        "m.room_versions": room_versions.capabilities(),
        # Deprecated since v1.16 but still read by older clients; kept consistent with
        # m.profile_fields as the spec requires.
        "m.set_displayname": _flag(can_edit_profile),
        "m.set_avatar_url": _flag(can_edit_profile),
        "m.profile_fields": _flag(can_edit_profile),
        # Email addresses can be added when this server sends mail; phone numbers never.
        "m.3pid_changes": _flag(email),
        "m.get_login_token": _flag(True),
    }
