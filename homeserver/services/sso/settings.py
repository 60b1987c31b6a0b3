"""What the SSO flow needs from the configuration, and what it answers the browser with."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import errors
from .providers import Provider, providers_from_config

CALLBACK_PATH = "/_homeserver/client/sso/oidc/callback"
NEW_USER_PATH = "/_homeserver/client/sso/new_user"


@dataclass(frozen=True)
class SsoSettings:
    providers: tuple
    client_whitelist: tuple
    session_lifetime_ms: int
    server_name: str
    base_url: str
    # The application services' Registry: their exclusive namespaces are no one else's names.
    app_services: object

    @classmethod
    def from_config(cls, config) -> "SsoSettings":
        return cls(providers=tuple(providers_from_config(config.oidc_providers)),
                   client_whitelist=tuple(config.sso["client_whitelist"]),
                   session_lifetime_ms=config.sso["session_lifetime_ms"],
                   server_name=config.server_name, base_url=config.base_url,
                   app_services=config.app_services)

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
