"""Application service registrations (spec: Application Service API, "Registration").

The operator lists registration files (YAML, as every bridge generates them) in
``app_service_config_files``; each is read and checked at startup. A bad file, or two
services with the same ``id``, ``as_token`` or ``hs_token``, is a ``RegistrationError`` whose
message is one line naming the file and the problem.

Namespace regexes are written by bridge authors and matched against user IDs, aliases and room
IDs that anyone can choose, so they are compiled with RE2 (linear time, no backtracking). They
match from the start of the value, as Synapse's ``re.match`` does; bridges write full patterns
(``@telegram_.*:example.org``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import re2
import yaml

from ... import errors, identifiers

# The largest registration file read (a bridge's is about a kilobyte).
MAX_FILE_BYTES = 1024 * 1024
# DFA memory per namespace regex; past it RE2 uses its (still linear) NFA.
REGEX_MAX_MEM = 1024 * 1024

_OPTIONS = re2.Options()
_OPTIONS.max_mem = REGEX_MAX_MEM
_OPTIONS.log_errors = False

NAMESPACE_KINDS = ("users", "aliases", "rooms")


class RegistrationError(Exception):
    """A registration file cannot be used; the message is one line naming file and problem."""


@dataclass(frozen=True)
class Namespace:
    regex: str
    exclusive: bool
    compiled: object = field(compare=False, repr=False)

    def matches(self, value: str) -> bool:
        return self.compiled.match(value) is not None


@dataclass(frozen=True)
class AppService:
    """One registered application service (its registration file, checked)."""

    id: str
    url: str | None
    as_token: str
    hs_token: str
    sender: str
    users: tuple[Namespace, ...]
    aliases: tuple[Namespace, ...]
    rooms: tuple[Namespace, ...]
    rate_limited: bool
    protocols: tuple[str, ...]
    receive_ephemeral: bool
    path: str
    # MSC3202 (``org.matrix.msc3202: true``): device lists and key counts in transactions.
    device_extensions: bool = False
    # MSC4190 (``io.element.msc4190`` / ``device_management``): creates and deletes devices.
    device_management: bool = False

    def _matches(self, namespaces: tuple[Namespace, ...], value: str,
                 exclusive_only: bool) -> bool:
        return any(ns.matches(value) for ns in namespaces if ns.exclusive or not exclusive_only)

    def is_interested_in_user(self, user_id: str) -> bool:
        """A user of its namespaces, or its sender."""
        return user_id == self.sender or self._matches(self.users, user_id, False)

    def is_exclusive_user(self, user_id: str) -> bool:
        return user_id == self.sender or self._matches(self.users, user_id, True)

    def is_interested_in_alias(self, alias: str) -> bool:
        return self._matches(self.aliases, alias, False)

    def is_exclusive_alias(self, alias: str) -> bool:
        return self._matches(self.aliases, alias, True)

    def is_interested_in_room(self, room_id: str) -> bool:
        return self._matches(self.rooms, room_id, False)

    def is_exclusive_room(self, room_id: str) -> bool:
        return self._matches(self.rooms, room_id, True)


@dataclass(frozen=True)
class Registry:
    """Every configured application service, found by ID or by ``as_token``."""

    services: tuple[AppService, ...] = ()

    def by_token(self, as_token: str) -> AppService | None:
        """The service with this as_token (compared in constant time, every service looked at,
        so the answer's timing says nothing about the tokens)."""
        found = None
        for service in self.services:
            if hmac.compare_digest(service.as_token.encode(), as_token.encode()):
                found = service
        return found

    def by_id(self, service_id: str) -> AppService | None:
        for service in self.services:
            if service.id == service_id:
                return service
        return None

    def exclusive_user_owner(self, user_id: str) -> AppService | None:
        """The service whose exclusive user namespace holds ``user_id``, if any."""
        return next((s for s in self.services if s.is_exclusive_user(user_id)), None)

    def exclusive_alias_owner(self, alias: str) -> AppService | None:
        return next((s for s in self.services if s.is_exclusive_alias(alias)), None)

    def check_not_reserved(self, user_id: str, service: AppService | None = None) -> None:
        """M_EXCLUSIVE when ``user_id`` lies in the exclusive user namespace of a service other
        than ``service`` (of any service, for a regular user's registration)."""
        for owner in self.services:
            if owner is not service and owner.is_exclusive_user(user_id):
                raise errors.Exclusive("This user ID is reserved by an application service")

    def check_alias_not_reserved(self, alias: str, service: AppService | None = None) -> None:
        """M_EXCLUSIVE when ``alias`` lies in the exclusive alias namespace of a service other
        than ``service``."""
        for owner in self.services:
            if owner is not service and owner.is_exclusive_alias(alias):
                raise errors.Exclusive("This room alias is reserved by an application service")

    def with_protocol(self, protocol: str) -> list[AppService]:
        return [s for s in self.services if protocol in s.protocols]

    def __bool__(self) -> bool:
        return bool(self.services)


def _require_string(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be a non-empty string")
    return value


def _flag(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValueError(f"'{key}' must be true or false")
    return value


def _namespaces(data: dict, kind: str) -> tuple[Namespace, ...]:
    section = data.get("namespaces") or {}
    if not isinstance(section, dict):
        raise ValueError("'namespaces' must be a mapping")
    entries = section.get(kind) or []
    if not isinstance(entries, list):
        raise ValueError(f"'namespaces.{kind}' must be a list")
    found = []
    for index, entry in enumerate(entries):
        where = f"namespaces.{kind}[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"'{where}' must be a mapping with 'regex' and 'exclusive'")
        regex = entry.get("regex")
        if not isinstance(regex, str) or not regex:
            raise ValueError(f"'{where}.regex' must be a non-empty string")
        exclusive = entry.get("exclusive", False)
        if not isinstance(exclusive, bool):
            raise ValueError(f"'{where}.exclusive' must be true or false")
        try:
            compiled = re2.compile(regex, _OPTIONS)
        except re2.error as exc:
            raise ValueError(f"'{where}.regex' is not a valid regular expression: {exc}") from None
        found.append(Namespace(regex, exclusive, compiled))
    return tuple(found)


def _url(data: dict) -> str | None:
    url = data.get("url")
    if url is None:
        return None
    if not isinstance(url, str):
        raise ValueError("'url' must be a string or null")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("'url' must be an http:// or https:// URL (or null)")
    return url.rstrip("/")


def parse(data, path: str, server_name: str) -> AppService:
    """One registration from its YAML mapping; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a registration must be a mapping of keys to values")
    localpart = _require_string(data, "sender_localpart")
    sender = f"@{localpart}:{server_name}"
    if not identifiers.is_valid_user_id(sender, historical=False):
        raise ValueError(f"'sender_localpart' {localpart!r} does not make a valid user ID")
    protocols = data.get("protocols") or []
    if not isinstance(protocols, list) or not all(isinstance(p, str) and p for p in protocols):
        raise ValueError("'protocols' must be a list of strings")
    ephemeral = (_flag(data, "receive_ephemeral", False) or _flag(data, "push_ephemeral", False)
                 or _flag(data, "de.sorunome.msc2409.push_ephemeral", False))
    return AppService(
        id=_require_string(data, "id"), url=_url(data),
        as_token=_require_string(data, "as_token"), hs_token=_require_string(data, "hs_token"),
        sender=sender, users=_namespaces(data, "users"), aliases=_namespaces(data, "aliases"),
        rooms=_namespaces(data, "rooms"), rate_limited=_flag(data, "rate_limited", True),
        protocols=tuple(protocols), receive_ephemeral=ephemeral, path=path,
        device_extensions=_flag(data, "org.matrix.msc3202", False),
        device_management=(_flag(data, "io.element.msc4190", False)
                           or _flag(data, "device_management", False)))


def _read(path: str) -> object:
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read the file: {exc.strerror or exc}") from None
    if len(text) > MAX_FILE_BYTES:
        raise ValueError(f"the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {' '.join(str(exc).split())}") from None


def load_all(paths: list[str], server_name: str) -> Registry:
    """Read and check every registration file; RegistrationError on the first problem."""
    services: list[AppService] = []
    for path in paths:
        try:
            service = parse(_read(path), path, server_name)
        except ValueError as exc:
            raise RegistrationError(f"application service registration {path}: {exc}") from None
        for other in services:
            for key in ("id", "as_token", "hs_token"):
                if getattr(service, key) == getattr(other, key):
                    raise RegistrationError(
                        f"application service registration {path}: its {key} is also the "
                        f"{key} of {other.path}")
        if service.as_token == service.hs_token:
            raise RegistrationError(f"application service registration {path}: as_token and "
                                    "hs_token must differ")
        services.append(service)
    return Registry(tuple(services))
