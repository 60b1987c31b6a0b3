"""``m.login.sso`` as a user-interactive auth stage (spec: "SSO during User-Interactive
Authentication"): accounts linked to a configured provider confirm sensitive operations by
signing in at the provider again, through the stage's fallback page.

The fallback page says what the session authorises and only then offers the provider's links
(security consideration 1); each link is an attempt bound to the browser's cookie like a login
(consideration 2). The callback completes the stage only when the provider vouches for the
session's own user.
"""

from __future__ import annotations

from ..accounts import accounts, uia, uia_stages
from . import mapping
from .errors import SsoError
from .flow import start
from .settings import Page, SsoSettings


def offered_flows(flows: list[list[str]], user_id: str | None,
                  settings: SsoSettings) -> list[list[str]]:
    """The flows of a request that asks for a password: with ``[m.login.sso]`` added for an
    account linked to a configured provider, and the password dropped if it has none."""
    if user_id is None or not settings.providers or [uia.PASSWORD] not in flows:
        return flows
    if not _linked_providers(settings, user_id):
        return flows
    user = accounts.get_user(user_id)
    kept = [flow for flow in flows
            if flow != [uia.PASSWORD] or (user is not None and user.password_hash)]
    return kept + [[uia_stages.SSO]]


def _linked_providers(settings: SsoSettings, user_id: str) -> list:
    linked = {idp_id for idp_id, _ in mapping.external_ids(user_id)}
    return [provider for provider in settings.providers if provider.idp_id in linked]


def fallback_page(settings: SsoSettings, state: dict, browser: str, action: str) -> Page:
    """The stage's fallback page (``state``: uia.fallback_state's): what is being confirmed,
    and a link per linked provider."""
    if state["done"]:
        return Page("auth_done.html", {"server_name": settings.server_name})
    providers = _linked_providers(settings, state["user_id"]) if state["user_id"] else []
    if not providers:
        raise SsoError("This account does not sign in through an identity provider", 403)
    links = [{"name": provider.display_name,
              "url": start(settings, provider, "", browser, uia_session_id=state["session"])}
             for provider in providers]
    return Page("auth_sso.html", {"server_name": settings.server_name, "action": action,
                                  "user_id": state["user_id"], "providers": links})


def confirmed(settings: SsoSettings, session_id: str, identity: mapping.Identity) -> Page:
    """The provider's answer to a fallback page's link: complete the stage for its user."""
    user_id = mapping.user_for(identity.idp_id, identity.subject)
    try:
        uia.complete_in_browser(session_id, uia_stages.SSO, user_id or "")
    except uia.StageFailed as exc:
        raise SsoError(exc.message, status=403) from None
    return Page("auth_done.html", {"server_name": settings.server_name})
