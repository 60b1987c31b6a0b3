"""Third-party lookups (spec module "Third-party Networks"), answered by the application
services (bridges) that declare each protocol in their registration's ``protocols``.

- The protocol list asks each such service for its protocol's metadata
  (GET /_matrix/app/v1/thirdparty/protocol/{protocol}); an answer is kept for an hour in the
  database (as Synapse caches it). Services sharing a protocol have their ``instances``
  concatenated; an instance with a ``network_id`` gets the ``instance_id``
  ``<service id>|<network id>`` that /publicRooms takes as ``third_party_instance_id``.
- Lookups by protocol forward the query string to the protocol's services and concatenate
  their lists; a protocol no service declares is 404 M_NOT_FOUND.
- Reverse lookups (by alias or user ID) ask every service that declares a protocol; an alias
  or user that does not exist here is 404 M_NOT_FOUND.

A service that fails or answers something malformed is left out (and logged), not an error.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

from ... import db, errors, identifiers
from ...db import write_transaction
from ...models.appservice import AppServiceProtocolCache
from ...models.rooms import RoomAlias
from ...models.users import User
from . import client
from .registrations import AppService, Registry

logger = logging.getLogger(__name__)

PROTOCOL_CACHE_MS = 3600 * 1000
LOOKUP_TIMEOUT_S = 10.0
# Entries kept from one service's answer to a lookup.
MAX_RESULTS_PER_SERVICE = 1000


def _fetch_protocol(service: AppService, name: str) -> dict | None:
    now = db.now_ms()
    cached = AppServiceProtocolCache.get_or_none(
        (AppServiceProtocolCache.service_id == service.id)
        & (AppServiceProtocolCache.protocol == name))
    if cached is not None and cached.fetched_ts > now - PROTOCOL_CACHE_MS:
        return json.loads(cached.body)
    try:
        answer = client.json_answer(service, f"/thirdparty/protocol/{quote(name, safe='')}",
                                    None, LOOKUP_TIMEOUT_S)
    except client.ServiceError as exc:
        logger.info("application service %s: protocol %s lookup failed: %s", service.id,
                    name, exc)
        return json.loads(cached.body) if cached is not None else None
    if not isinstance(answer, dict):
        logger.info("application service %s: protocol %s metadata is not an object",
                    service.id, name)
        return json.loads(cached.body) if cached is not None else None
    with write_transaction():
        (AppServiceProtocolCache.delete()
         .where((AppServiceProtocolCache.service_id == service.id)
                & (AppServiceProtocolCache.protocol == name)).execute())
        AppServiceProtocolCache.insert(service_id=service.id, protocol=name,
                                       body=json.dumps(answer), fetched_ts=now).execute()
    return answer


def _merged(registry: Registry, name: str) -> dict | None:
    merged: dict | None = None
    for service in registry.with_protocol(name):
        info = _fetch_protocol(service, name)
        if info is None:
            continue
        instances = []
        for instance in info.get("instances") or []:
            if isinstance(instance, dict):
                instance = dict(instance)
                if isinstance(instance.get("network_id"), str):
                    instance["instance_id"] = f"{service.id}|{instance['network_id']}"
                instances.append(instance)
        if merged is None:
            merged = {**info, "instances": instances}
        else:
            merged["instances"] = merged["instances"] + instances
    return merged


def protocols(registry: Registry) -> dict:
    names = sorted({name for service in registry.services for name in service.protocols})
    found = {}
    for name in names:
        info = _merged(registry, name)
        if info is not None:
            found[name] = info
    return found


def protocol(registry: Registry, name: str) -> dict:
    info = _merged(registry, name) if registry.with_protocol(name) else None
    if info is None:
        raise errors.NotFound(f"Unknown protocol {name!r}: no bridge of this server provides it")
    return info


def _gather(services: list[AppService], path: str, query: dict) -> list:
    found: list = []
    for service in services:
        try:
            answer = client.json_answer(service, path, query, LOOKUP_TIMEOUT_S)
        except client.ServiceError as exc:
            logger.info("application service %s: lookup %s failed: %s", service.id, path, exc)
            continue
        if isinstance(answer, list):
            found += [entry for entry in answer[:MAX_RESULTS_PER_SERVICE]
                      if isinstance(entry, dict)]
    return found


def _by_protocol(registry: Registry, kind: str, name: str, query: dict) -> list:
    services = registry.with_protocol(name)
    if not services:
        raise errors.NotFound(f"Unknown protocol {name!r}: no bridge of this server provides it")
    return _gather(services, f"/thirdparty/{kind}/{quote(name, safe='')}", query)


def locations_for_protocol(registry: Registry, name: str, query: dict) -> list:
    return _by_protocol(registry, "location", name, query)


def users_for_protocol(registry: Registry, name: str, query: dict) -> list:
    return _by_protocol(registry, "user", name, query)


def _bridging(registry: Registry) -> list[AppService]:
    return [service for service in registry.services if service.protocols]


def locations_for_alias(registry: Registry, alias: str) -> list:
    if not identifiers.is_valid_room_alias(alias):
        raise errors.InvalidParam(f"{alias!r} is not a room alias")
    if not RoomAlias.select().where(RoomAlias.alias == alias).exists():
        raise errors.NotFound("Room alias not found")
    return _gather(_bridging(registry), "/thirdparty/location", {"alias": alias})


def users_for_user_id(registry: Registry, user_id: str) -> list:
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam(f"{user_id!r} is not a user ID")
    user = User.get_or_none(User.user_id == user_id)
    if user is None or user.deactivated:
        raise errors.NotFound("User not found")
    return _gather(_bridging(registry), "/thirdparty/user", {"userid": user_id})
