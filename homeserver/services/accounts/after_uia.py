"""The account changes that user-interactive auth guards, run once the flow passed: POST
/account/password (also the tokenless reset through the email stage) and POST
/account/deactivate (spec: Account management).

Apart from ``accounts`` because ``uia`` reads accounts to identify the user it authenticates.
"""

from __future__ import annotations

from ... import errors
from ..userdata import threepids
from . import accounts, deactivation, uia
from .passwords import hash_password


def change_password_after_uia(passed, body: dict, *, requester_device: str | None) -> None:
    """POST /account/password once its user-interactive auth passed (for ``passed.user_id``).

    The new password is hashed only now, never on a leg that did not complete the flow; a
    retry of a completed request answers its result without changing anything again.
    """
    if passed.replayed:
        return
    user_id = passed.user_id or _user_of_email_stage(passed)
    new_password = body.get("new_password")
    if new_password is None:
        raise errors.MissingParam("Missing parameter: new_password")
    accounts.validate_password(new_password)
    password_hash = hash_password(new_password)
    uia.complete(passed, lambda: accounts.change_password(
        user_id, password_hash=password_hash, logout_devices=body["logout_devices"],
        keep_device=requester_device))


def _user_of_email_stage(passed) -> str:
    """A tokenless password reset: the account holding the address the email stage proved."""
    proven = passed.stage_results.get(uia.EMAIL_IDENTITY)
    if proven is None:
        raise errors.MissingToken()
    user_id = threepids.owner(proven["medium"], proven["address"])
    if user_id is None:
        raise errors.ThreepidNotFound("This email address is not on any account of this server")
    return user_id


def deactivate_after_uia(passed, *, erase: bool = False, id_server: str | None = None,
                         media_store=None) -> dict:
    """POST /account/deactivate once its user-interactive auth passed (``deactivation`` says
    what goes, ``erasure`` what ``erase`` adds)."""
    if passed.replayed:
        return {"id_server_unbind_result": "success"}
    unbound = deactivation.unbind_threepids(passed.user_id, id_server)
    orphaned = uia.complete(
        passed, lambda: deactivation.deactivate_account(passed.user_id, erase=erase))
    deactivation.after_commit(passed.user_id, orphaned, media_store)
    return unbound
