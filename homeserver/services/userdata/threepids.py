"""Third-party identifiers on accounts (spec: "Adding Account Administrative Contact
Information"): email addresses proven through a validation session (threepid_sessions.py).
One account per address; GET /account/3pid lists them, login and password reset find the
account of one. Only the email medium is validated here (no SMS sending); addresses bound at
identity servers are services/identity/bindings.py's.
"""

from __future__ import annotations

import peewee

from ... import clock, db, errors
from ...models.email import UserThreepid
from ...models.push import Pusher
from ..identity import bindings
from ..user_lock import lock_user

EMAIL = "email"
# Addresses one account may hold (each took a validation mail to add).
MAX_PER_USER = 20


def owner(medium: str, address: str) -> str | None:
    row = UserThreepid.get_or_none((UserThreepid.medium == medium)
                                   & (UserThreepid.address == address))
    return row.user_id if row is not None else None


def list_for(user_id: str) -> list[dict]:
    rows = (UserThreepid.select().where(UserThreepid.user_id == user_id)
            .order_by(UserThreepid.added_at, UserThreepid.address))
    return [{"medium": row.medium, "address": row.address, "validated_at": row.validated_at,
             "added_at": row.added_at} for row in rows]


def add(user_id: str, medium: str, address: str, validated_at: int) -> None:
    """Put an address on the account (call in a write transaction). M_THREEPID_IN_USE if
    another account has it; a no-op if this one does."""
    lock_user(user_id)  # the count below then holds against concurrent adds
    current = owner(medium, address)
    if current == user_id:
        return
    if current is not None:
        raise errors.ThreepidInUse("This email address is already in use")
    count = UserThreepid.select().where(UserThreepid.user_id == user_id).count()
    if count >= MAX_PER_USER:
        raise errors.UserLimitExceeded(
            f"An account may hold at most {MAX_PER_USER} third-party identifiers")
    try:
        with db.database.atomic():
            UserThreepid.insert(user_id=user_id, medium=medium, address=address,
                                validated_at=validated_at, added_at=clock.now_ms()).execute()
    except peewee.IntegrityError:
        raise errors.ThreepidInUse("This email address is already in use") from None


def add_validated(user_id: str, proven) -> None:
    """Add what a validation session proved (threepid_sessions.ValidatedAddress)."""
    with db.write_transaction():
        add(user_id, proven.medium, proven.address, proven.validated_at)


def delete(user_id: str, medium: str, address: str) -> bool:
    """Take an address off the account; False if it was not on it."""
    if "\x00" in medium or "\x00" in address:
        return False  # never stored (PostgreSQL text cannot hold NUL; queried it raises)
    if medium == EMAIL:
        address = address.strip().lower()  # as stored (mailer.normalise_address)
    with db.write_transaction():
        # Notification mails stop with the address (as Synapse).
        Pusher.delete().where((Pusher.user_id == user_id) & (Pusher.kind == medium)
                              & (Pusher.pushkey == address)).execute()
        return UserThreepid.delete().where(
            (UserThreepid.user_id == user_id) & (UserThreepid.medium == medium)
            & (UserThreepid.address == address)).execute() > 0


def delete_and_unbind(user_id: str, medium: str, address: str, id_server: str | None) -> str:
    """POST /account/3pid/delete: unbound from ``id_server`` (or where it was bound through
    this server), then off the account; the ``id_server_unbind_result``."""
    if medium == EMAIL:
        address = address.strip().lower()
    result = bindings.unbind(user_id, medium, address, id_server)
    delete(user_id, medium, address)
    return result


def delete_all(user_id: str) -> None:
    """For deactivation (in its transaction)."""
    UserThreepid.delete().where(UserThreepid.user_id == user_id).execute()
