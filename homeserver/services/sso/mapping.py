"""Who a provider's user is here: the (provider, subject) -> account table, the suggested
username and display name from the claims, and accounts made on first login.

Spec: SSO client login, "Handling the callback" (map to a valid user ID, register new users);
Appendices, "Mapping from other character sets" (the encoding of a suggested localpart).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import jinja2
import jinja2.sandbox
import peewee

from ... import clock, db, errors
from ...models.sso import UserExternalId
from ...models.users import User
from ..accounts import accounts
from ..users.profile import MAX_DISPLAYNAME_LENGTH
from .errors import SsoError
from .providers import Provider

log = logging.getLogger(__name__)

# Suffixes tried after a suggested localpart that is taken: name, name1, name2, ...
MAX_SUFFIX = 999
_SUFFIX_BATCH = 100
MAX_SUBJECT_LENGTH = 255
# A longer suggestion could not make a valid user ID anyway (255 bytes in all).
MAX_SUGGESTION_LENGTH = 255
_ALLOWED = re.compile(rb"[a-z0-9._=\-/]")
_environment = jinja2.sandbox.SandboxedEnvironment(autoescape=False,
                                                   undefined=jinja2.ChainableUndefined)


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for, mapped: the subject and our suggestions."""

    idp_id: str
    subject: str
    localpart: str | None
    display_name: str | None


def map_username_to_localpart(name: str) -> str:
    """The spec's appendix mapping, as Synapse does it: lower-case, then every byte outside
    ``a-z 0-9 . _ = - /`` becomes ``=xx``; a leading ``_`` (reserved) becomes ``=5f``."""
    out = []
    for byte in name.lower().encode("utf-8"):
        char = bytes([byte])
        out.append(char.decode() if _ALLOWED.fullmatch(char) else f"={byte:02x}")
    text = "".join(out)
    return "=5f" + text[1:] if text.startswith("_") else text


def _render(template: str | None, claims: dict) -> str | None:
    if template is None:
        return None
    try:
        text = _environment.from_string(template).render(user=claims).strip()
    except jinja2.TemplateError:
        return None
    return text or None


def identity_from_claims(provider: Provider, claims: dict) -> Identity:
    mapping = provider.user_mapping
    subject = claims.get(mapping["subject_claim"])
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise SsoError("The identity provider did not identify the user", status=502)
    localpart = _render(mapping["localpart_template"], claims)
    if localpart is not None:
        localpart = map_username_to_localpart(localpart[:MAX_SUGGESTION_LENGTH])
    display_name = _render(mapping["display_name_template"], claims)
    if display_name is not None:
        display_name = display_name[:MAX_DISPLAYNAME_LENGTH]
    return Identity(provider.idp_id, subject, localpart, display_name)


def user_for(idp_id: str, subject: str) -> str | None:
    row = (UserExternalId.select(UserExternalId.user)
           .where((UserExternalId.idp_id == idp_id) & (UserExternalId.subject == subject))
           .first())
    return row.user_id if row is not None else None


def link(idp_id: str, subject: str, user_id: str) -> None:
    """Record that the subject is this account. Call in a write transaction."""
    UserExternalId.insert(idp_id=idp_id, subject=subject, user=user_id,
                          created_ts=clock.now_ms()).execute()


def external_ids(user_id: str) -> list[tuple[str, str]]:
    return [(row.idp_id, row.subject) for row in
            UserExternalId.select().where(UserExternalId.user == user_id)]


def usable_localpart(localpart: str | None, server_name: str, app_services) -> str | None:
    """The user ID for a suggested localpart if it is valid and free to choose (not a guest's,
    not in an application service's exclusive namespace), else None."""
    if localpart is None:
        return None
    try:
        user_id = accounts.validate_localpart(localpart, server_name)
        accounts.check_choosable(user_id, app_services)
        return user_id
    except errors.MatrixError:
        return None


def free_user_id(localpart: str, server_name: str, app_services) -> str | None:
    """The suggestion, or with the first free number after it; None if none is free."""
    candidates = []
    for suffix in [""] + [str(n) for n in range(1, MAX_SUFFIX + 1)]:
        user_id = usable_localpart(localpart + suffix, server_name, app_services)
        if user_id is not None:
            candidates.append(user_id)
    for start in range(0, len(candidates), _SUFFIX_BATCH):
        batch = candidates[start:start + _SUFFIX_BATCH]
        taken = {row.user_id for row in
                 User.select(User.user_id).where(User.user_id.in_(batch))}
        for user_id in batch:
            if user_id not in taken:
                return user_id
    return None


def create_linked_user(identity: Identity, user_id: str) -> str:
    """A new account for the identity, linked to it, in one transaction (no password: the
    account signs in through the provider). M_USER_IN_USE if taken meanwhile; SsoError if the
    subject was linked meanwhile (a second browser finished first)."""
    try:
        with db.write_transaction():
            if user_for(identity.idp_id, identity.subject) is not None:
                raise SsoError("This account was just created: start the login again")
            accounts.create_user(user_id, None, displayname=identity.display_name)
            link(identity.idp_id, identity.subject, user_id)
    except peewee.IntegrityError:
        raise SsoError("This account was just created: start the login again") from None
    log.info("SSO: created %s for a new user of identity provider %s", user_id, identity.idp_id)
    return user_id


def link_existing(identity: Identity, user_id: str) -> str:
    """Link the identity to an existing account (``allow_existing_users``), unless that account
    is already another subject's at this provider (two provider users never share one)."""
    try:
        with db.write_transaction():
            if user_for(identity.idp_id, identity.subject) is None:
                other = (UserExternalId.select()
                         .where((UserExternalId.user == user_id)
                                & (UserExternalId.idp_id == identity.idp_id)).exists())
                if other:
                    raise SsoError("This username belongs to another user of the identity "
                                   "provider", status=403)
                link(identity.idp_id, identity.subject, user_id)
                log.info("SSO: linked the existing account %s to a user of identity provider %s",
                         user_id, identity.idp_id)
    except peewee.IntegrityError:
        pass  # linked by a concurrent login of the same subject: the same outcome
    return user_for(identity.idp_id, identity.subject)
