"""What the policy reads of the requester of a client's action: ``accounts.access_tokens``'s
``Requester`` (read from the account row on every request) is one, so a service entry point
can take it without importing accounts (which sits above the domains it calls)."""

from __future__ import annotations

from typing import Protocol


class Requester(Protocol):
    user_id: str
    # Suspended accounts may not do what policy/suspension lists (spec: "Account suspension").
    is_suspended: bool
    # False for an application service registered with ``rate_limited: false``.
    rate_limited: bool
