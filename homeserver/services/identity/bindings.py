"""3PIDs bound to accounts at identity servers (spec: "Adding Account Administrative Contact
Information": POST /account/3pid/bind and /unbind, and the ``id_server_unbind_result`` of
POST /account/3pid/delete and /account/deactivate).

A successful bind is recorded (``ThreepidBinding``) so that the address can be unbound later
from the server it was bound at. Unbinding asks the identity server without an
``id_access_token`` (the spec expects the homeserver to sign that request; this server has no
server signing key, so an identity server that insists on a signature refuses, and the answer
is ``no-support``). The HTTP calls happen outside any database transaction.
"""

from __future__ import annotations

import peewee

from ... import clock, db, errors
from ...models.identity import ThreepidBinding
from ..user_lock import lock_user
from . import client

# Bindings recorded per account (each took a validation at an identity server).
MAX_PER_USER = 100
SUCCESS, NO_SUPPORT = "success", "no-support"


def bind(user_id: str, id_server: str, id_access_token: str, sid: str,
         client_secret: str) -> None:
    """POST /account/3pid/bind: the identity server binds what session ``sid`` validated to
    the user; its refusals are passed on (the spec: "proxy any errors")."""
    client.check_server_name(id_server)
    if ThreepidBinding.select().where(ThreepidBinding.user_id == user_id).count() \
            >= MAX_PER_USER:
        raise errors.UserLimitExceeded(
            f"An account may have at most {MAX_PER_USER} bound third-party identifiers")
    medium, address = client.bind(id_server, id_access_token, sid, client_secret, user_id)
    with db.write_transaction():
        lock_user(user_id)
        try:
            with db.database.atomic():
                ThreepidBinding.insert(user_id=user_id, medium=medium, address=address,
                                       id_server=id_server, added_at=clock.now_ms()).execute()
        except peewee.IntegrityError:
            pass  # bound there before: one record


def unbind(user_id: str, medium: str, address: str, id_server: str | None = None) -> str:
    """Unbind the 3PID of the user from ``id_server``, or from every identity server it was
    bound at through this server; "success" or "no-support" (spec: unbind3pidFromAccount:
    "no-support" also when no identity server is known)."""
    if "\x00" in medium or "\x00" in address:
        return NO_SUPPORT  # never bound here (PostgreSQL text cannot hold NUL)
    if id_server is not None:
        client.check_server_name(id_server)
        servers = [id_server]
    else:
        servers = [row.id_server for row in ThreepidBinding.select(ThreepidBinding.id_server)
                   .where(_key(user_id, medium, address)).limit(MAX_PER_USER)]
    if not servers:
        return NO_SUPPORT
    result = SUCCESS
    for server in servers:
        if not _unbind_at(user_id, medium, address, server):
            result = NO_SUPPORT
    return result


def unbind_all(user_id: str, id_server: str | None = None) -> str:
    """At deactivation: unbind every recorded 3PID of the user from ``id_server``, or from
    the servers they were bound at ("success" when all were unbound, or there were none)."""
    threepids = list(dict.fromkeys(
        ThreepidBinding.select(ThreepidBinding.medium, ThreepidBinding.address)
        .where(ThreepidBinding.user_id == user_id).limit(MAX_PER_USER).tuples()))
    results = [unbind(user_id, medium, address, id_server) for medium, address in threepids]
    return NO_SUPPORT if NO_SUPPORT in results else SUCCESS


def forget_all(user_id: str) -> None:
    """Deactivation (in its transaction): the records of bindings left go with the account."""
    ThreepidBinding.delete().where(ThreepidBinding.user_id == user_id).execute()


def _key(user_id: str, medium: str, address: str):
    return ((ThreepidBinding.user_id == user_id) & (ThreepidBinding.medium == medium)
            & (ThreepidBinding.address == address))


def _unbind_at(user_id: str, medium: str, address: str, id_server: str) -> bool:
    """Ask ``id_server``; the record goes when it unbound or refused for good (a 4xx), and
    stays when it could not be reached (a later unbind tries again)."""
    unbound = client.unbind(id_server, user_id, medium, address)
    if unbound is not None:
        with db.write_transaction():
            ThreepidBinding.delete().where(_key(user_id, medium, address)
                                           & (ThreepidBinding.id_server == id_server)).execute()
    return bool(unbound)
