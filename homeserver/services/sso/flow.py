"""The two ends of a browser's trip to the provider, shared by login and user-interactive auth:
``start`` (a new attempt bound to the browser, and the provider's authorization URL) and
``provider_identity`` (the provider's answer, taken, exchanged and verified)."""

from __future__ import annotations

from ... import errors
from . import attempts, mapping, oidc
from .errors import SsoError
from .providers import Provider, metadata
from .settings import SsoSettings


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
    try:
        provider = settings.provider(attempt.idp_id)
    except errors.NotFound:
        raise SsoError("This identity provider is no longer configured", status=404) from None
    # RFC 9207: a provider that names itself in its answer must be the one this attempt went to
    # (a mix-up between providers would hand one provider's code to another).
    if args.get("iss") is not None and args.get("iss") != provider.issuer:
        raise SsoError("The answer came from another identity provider", status=403)
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
