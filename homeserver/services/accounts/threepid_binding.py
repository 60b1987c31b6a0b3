"""POST /account/3pid/bind and /account/3pid/unbind (spec: "Adding Account Administrative
Contact Information"): the client's entry points to ``identity/bindings``, counted under the
client's rate limit first (each costs a request to an identity server)."""

from __future__ import annotations

from ..identity import bindings
from ..policy import ratelimit
from ..policy.requester import Requester


def bind(requester: Requester, id_server: str, id_access_token: str, sid: str,
         client_secret: str, *, rate_rule: dict | None) -> None:
    ratelimit.charge("send", requester, rate_rule)
    bindings.bind(requester.user_id, id_server, id_access_token, sid, client_secret)


def unbind(requester: Requester, medium: str, address: str, id_server: str | None, *,
           rate_rule: dict | None) -> str:
    ratelimit.charge("send", requester, rate_rule)
    return bindings.unbind(requester.user_id, medium, address, id_server)
