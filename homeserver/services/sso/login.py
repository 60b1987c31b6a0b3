"""Login through an OpenID Connect provider (spec: "SSO client login/authentication", "Client
login via SSO"): from ``GET /login/sso/redirect`` to the client's ``redirectUrl`` with a
``loginToken`` for ``m.login.token``.

1. ``start``: a new attempt (state, nonce, PKCE verifier) bound to the browser's cookie, and
   the provider's authorization URL to send the browser to.
2. ``callback``: the provider sends the browser back with ``code`` and ``state``; the attempt
   is taken (single use), the code exchanged, the ID token verified, the identity mapped to an
   account (created on first login, or a username page when one must be chosen).
3. ``finish``: a single-use login token (accounts/access_tokens.py, two minutes) for that account, sent
   to a trusted client directly, to any other through a confirmation page.
"""

from __future__ import annotations

from ... import db, errors
from ..accounts import access_tokens, accounts
from . import attempts, mapping, redirects, uia_stage
from .errors import SsoError
from .flow import provider_identity
from .providers import Provider
from .settings import NEW_USER_PATH, Page, Redirect, SsoSettings


def callback(settings: SsoSettings, args: dict, browser: str | None) -> Redirect | Page:
    """``GET`` of the callback URL: log the browser in (or ask it for a username)."""
    attempt, provider, identity = provider_identity(settings, args, browser)
    if attempt.uia_session_id is not None:
        return uia_stage.confirmed(settings, attempt.uia_session_id, identity)
    user_id = mapping.user_for(identity.idp_id, identity.subject)
    if user_id is None:
        user_id = _existing_or_new_user(settings, provider, identity)
    if user_id is None:
        usable = mapping.usable_localpart(identity.localpart, settings.server_name,
                                         settings.app_services)
        pending = attempts.record_registration(
            browser=browser, idp_id=identity.idp_id, subject=identity.subject,
            suggested=identity.localpart if usable else None,
            display_name=identity.display_name,
            client_redirect_url=attempt.client_redirect_url,
            lifetime_ms=settings.session_lifetime_ms)
        return username_page(settings, pending)
    return finish(settings, user_id, attempt.client_redirect_url)


def _existing_or_new_user(settings: SsoSettings, provider: Provider, identity) -> str | None:
    """The account for a subject seen for the first time; None when the person must choose."""
    suggested = mapping.usable_localpart(identity.localpart, settings.server_name,
                                         settings.app_services)
    if suggested is not None and provider.allow_existing_users and \
            accounts.user_exists(suggested):
        return mapping.link_existing(identity, suggested)
    if suggested is None or provider.user_mapping["confirm_localpart"]:
        return None
    for _ in range(3):  # another login may take the free name first
        user_id = mapping.free_user_id(identity.localpart, settings.server_name,
                                       settings.app_services)
        if user_id is None:
            return None
        try:
            return mapping.create_linked_user(identity, user_id)
        except errors.UserInUse:
            continue
    return None


def username_page(settings: SsoSettings, pending: attempts.PendingRegistration,
                  error: str | None = None, status: int = 200) -> Page:
    suggestion = pending.suggested_localpart
    if suggestion is not None and mapping.usable_localpart(
            suggestion, settings.server_name, settings.app_services) is None:
        suggestion = None
    return Page("sso_new_user.html", {
        "session": pending.token, "suggestion": suggestion or "", "error": error,
        "display_name": pending.display_name, "server_name": settings.server_name,
        "action": NEW_USER_PATH}, status)


def submit_username(settings: SsoSettings, form: dict, browser: str | None) -> Redirect | Page:
    """The username page's form: create the account with the chosen name and log in."""
    pending = attempts.pending_registration(form.get("session"), browser)
    username = form.get("username")
    try:
        if not isinstance(username, str) or not username.strip():
            raise errors.InvalidUsername("Choose a username")
        user_id = accounts.user_id_for_username(username.strip(), settings.server_name)
        accounts.check_choosable(user_id, settings.app_services)
        accounts.check_available(user_id)
        identity = mapping.Identity(pending.idp_id, pending.subject, None, pending.display_name)
        _register(pending, identity, user_id)
    except errors.MatrixError as exc:
        return username_page(settings, pending, error=exc.message, status=400)
    return finish(settings, user_id, pending.client_redirect_url)


def _register(pending: attempts.PendingRegistration, identity, user_id: str) -> None:
    """Create the account and spend the pending registration, in one transaction."""
    with db.write_transaction():
        attempts.finish_registration(pending.token)
        mapping.create_linked_user(identity, user_id)


def finish(settings: SsoSettings, user_id: str, client_redirect_url: str) -> Redirect | Page:
    """Hand the client a login token for ``user_id`` (spec: callback steps 3-5)."""
    user = accounts.get_user(user_id)
    if user is None or user.deactivated:
        raise SsoError("This account has been deactivated", status=403)
    token, _ = access_tokens.create_login_token(user_id)
    target = redirects.with_login_token(client_redirect_url, token)
    if redirects.is_whitelisted(client_redirect_url, settings.client_whitelist):
        return Redirect(target)
    return Page("sso_redirect_confirm.html", {
        "user_id": user_id, "site": redirects.site_name(client_redirect_url),
        "target": target, "server_name": settings.server_name})
