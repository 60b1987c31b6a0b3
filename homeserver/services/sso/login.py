"""Login through an OpenID Connect provider (spec: "SSO client login/authentication", "Client
login via SSO"): from ``GET /login/sso/redirect`` to the client's ``redirectUrl`` with a
``loginToken`` for ``m.login.token``.

1. ``start``: a new attempt (state, nonce, PKCE verifier) bound to the browser's cookie, and
   the provider's authorization URL to send the browser to.
2. ``callback``: the provider sends the browser back with ``code`` and ``state``; the attempt
   is taken (single use), the code exchanged, the ID token verified, the identity mapped to an
   account (created on first login, or a username page when one must be chosen).
3. ``finish``: a single-use login token (services/auth.py, two minutes) for that account, sent
   to a trusted client directly, to any other through a confirmation page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import db, errors
from .. import accounts, auth
from . import attempts, mapping, oidc, redirects
from .errors import SsoError
from .providers import Provider, metadata, providers_from_config

CALLBACK_PATH = "/_homeserver/client/sso/oidc/callback"
NEW_USER_PATH = "/_homeserver/client/sso/new_user"


@dataclass(frozen=True)
class SsoSettings:
    providers: tuple
    client_whitelist: tuple
    session_lifetime_ms: int
    server_name: str
    base_url: str

    @classmethod
    def from_config(cls, config) -> "SsoSettings":
        return cls(providers=tuple(providers_from_config(config.oidc_providers)),
                   client_whitelist=tuple(config.sso["client_whitelist"]),
                   session_lifetime_ms=config.sso["session_lifetime_ms"],
                   server_name=config.server_name, base_url=config.base_url)

    @property
    def callback_url(self) -> str:
        return self.base_url + CALLBACK_PATH

    def provider(self, idp_id: str | None) -> Provider:
        """The provider ``idp_id`` names; without one, the only provider (404 otherwise)."""
        if idp_id is None and len(self.providers) == 1:
            return self.providers[0]
        for provider in self.providers:
            if provider.idp_id == idp_id:
                return provider
        raise errors.NotFound("Unknown identity provider")


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class Page:
    """An HTML page for the person in the browser (templates/)."""

    template: str
    context: dict = field(default_factory=dict)
    status: int = 200


def start(settings: SsoSettings, provider: Provider, client_redirect_url: str, browser: str,
          *, uia_session_id: str | None = None) -> str:
    """The provider's authorization URL for a new attempt of this browser."""
    meta = metadata(provider)
    state, nonce, verifier = oidc.new_secret(), oidc.new_secret(), oidc.new_secret()
    attempts.record(state=state, browser=browser, idp_id=provider.idp_id, nonce=nonce,
                    code_verifier=verifier, client_redirect_url=client_redirect_url,
                    lifetime_ms=settings.session_lifetime_ms, uia_session_id=uia_session_id)
    return oidc.authorization_url(provider, meta, callback_url=settings.callback_url,
                                  state=state, nonce=nonce, code_verifier=verifier)


def provider_identity(settings: SsoSettings, args: dict, browser: str | None):
    """The attempt the callback's ``state`` names and the identity the provider vouched for."""
    attempt = attempts.take(args.get("state"), browser)
    provider = settings.provider(attempt.idp_id)
    error = args.get("error")
    if error is not None:
        # The person cancelled, or the provider refused: its error code is safe to show.
        shown = error if isinstance(error, str) and error.isascii() and len(error) < 100 \
            else "error"
        raise SsoError(f"The identity provider did not sign you in ({shown}).", status=403)
    code = args.get("code")
    if not isinstance(code, str) or not code:
        raise SsoError("The identity provider sent no authorization code", status=400)
    meta = metadata(provider)
    answer = oidc.exchange_code(provider, meta, code=code, callback_url=settings.callback_url,
                                code_verifier=attempt.code_verifier)
    claims = oidc.verify_id_token(provider, meta, answer["id_token"], nonce=attempt.nonce)
    if provider.user_profile_method == "userinfo_endpoint" and \
            isinstance(answer.get("access_token"), str):
        claims = {**oidc.userinfo(provider, meta, answer["access_token"], claims["sub"]),
                  **claims}
    return attempt, provider, mapping.identity_from_claims(provider, claims)


def callback(settings: SsoSettings, args: dict, browser: str | None) -> Redirect | Page:
    """``GET`` of the callback URL: log the browser in (or ask it for a username)."""
    attempt, provider, identity = provider_identity(settings, args, browser)
    if attempt.uia_session_id is not None:
        raise SsoError("This sign-in link belongs to a confirmation, not a login")
    user_id = mapping.user_for(identity.idp_id, identity.subject)
    if user_id is None:
        user_id = _existing_or_new_user(settings, provider, identity)
    if user_id is None:
        pending = attempts.record_registration(
            browser=browser, idp_id=identity.idp_id, subject=identity.subject,
            suggested=identity.localpart, display_name=identity.display_name,
            client_redirect_url=attempt.client_redirect_url,
            lifetime_ms=settings.session_lifetime_ms)
        return username_page(settings, pending)
    return finish(settings, user_id, attempt.client_redirect_url)


def _existing_or_new_user(settings: SsoSettings, provider: Provider, identity) -> str | None:
    """The account for a subject seen for the first time; None when the person must choose."""
    suggested = mapping.usable_localpart(identity.localpart, settings.server_name)
    if suggested is not None and provider.allow_existing_users and \
            accounts.user_exists(suggested):
        return mapping.link_existing(identity, suggested)
    if suggested is None or provider.user_mapping["confirm_localpart"]:
        return None
    for _ in range(3):  # another login may take the free name first
        user_id = mapping.free_user_id(identity.localpart, settings.server_name)
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
    if suggestion is not None and mapping.usable_localpart(suggestion, settings.server_name) \
            is None:
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
    token, _ = auth.create_login_token(user_id)
    target = redirects.with_login_token(client_redirect_url, token)
    if redirects.is_whitelisted(client_redirect_url, settings.client_whitelist):
        return Redirect(target)
    return Page("sso_redirect_confirm.html", {
        "user_id": user_id, "site": redirects.site_name(client_redirect_url),
        "target": target, "server_name": settings.server_name})
