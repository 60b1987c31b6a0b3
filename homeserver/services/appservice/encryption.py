"""What an encrypting bridge needs in its transactions, as it runs no /sync per ghost.

- MSC2409's to-device messages, sent as ``de.sorunome.msc2409.to_device`` as Synapse does, to
  services with ``receive_ephemeral`` that also say ``org.matrix.msc3202: true`` (Synapse
  needs its server-wide switch besides ``receive_ephemeral``): the messages to devices of users
  in the service's user namespaces that got their stream position in the interval, each with
  its ``to_user_id`` and ``to_device_id``. Such a service is those devices' client (mautrix's
  appservice encryption mode): a message stored in a transaction leaves the device's queue
  (services/e2ee/to_device.py), as a /sync would acknowledge it, and the messages queued
  behind it get their position. A bridge that only asks for ephemeral events (mautrix's
  default, whose bot syncs for its to-device messages) keeps getting them through /sync.
- MSC3202 (``org.matrix.msc3202: true`` in the registration), under the
  ``org.matrix.msc3202.`` prefix: ``device_lists.changed``, the users of the service's
  interest (interest.py) whose devices or cross-signing keys changed in the interval (``left``
  stays empty, as in Synapse); ``device_one_time_keys_count`` and
  ``device_unused_fallback_key_types``, per user and device, for the namespace users the
  transaction concerns (events sent or received, to-device messages, device-list changes),
  for their devices that uploaded keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ...models.keys import DeviceKeys, DeviceListChange
from ...models.to_device import ToDeviceMessage
from ..e2ee import to_device
from ..e2ee.keys.upload import key_counts
from .interest import RoomInterest
from .registrations import AppService

# To-device messages read per query while picking the service's.
_SCAN_BATCH = 1000
# Devices whose key counts one transaction carries at most (a bridge's keys for the others
# follow with their next message).
MAX_KEY_COUNT_DEVICES = 500


@dataclass
class Extensions:
    to_device: list[dict] = field(default_factory=list)
    # The queue rows those messages are, deleted with the transaction's storing.
    to_device_ids: list[int] = field(default_factory=list)
    delivered: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    device_lists_changed: list[str] = field(default_factory=list)
    one_time_key_counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    unused_fallback_key_types: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add_to(self, body: dict) -> None:
        if self.to_device:
            body["de.sorunome.msc2409.to_device"] = self.to_device
        if self.device_lists_changed:
            body["org.matrix.msc3202.device_lists"] = {
                "changed": self.device_lists_changed, "left": []}
        if self.one_time_key_counts:
            body["org.matrix.msc3202.device_one_time_keys_count"] = self.one_time_key_counts
        if self.unused_fallback_key_types:
            body["org.matrix.msc3202.device_unused_fallback_key_types"] = (
                self.unused_fallback_key_types)

    def __bool__(self) -> bool:
        return bool(self.to_device or self.device_lists_changed or self.one_time_key_counts)


def collect(service: AppService, since: int, upto: int, concerned: set[str]) -> Extensions:
    """The extensions of (since, upto] for the service; ``concerned``: the users the
    transaction's events name (senders, membership targets)."""
    out = Extensions()
    if upto <= since or not service.device_extensions:
        return out
    recipients: set[str] = set()
    if service.receive_ephemeral:
        _to_device(service, since, upto, out)
        recipients = {message["to_user_id"] for message in out.to_device}
    changed = {user for (user,) in DeviceListChange.select(DeviceListChange.user_id)
               .distinct().where((DeviceListChange.stream_position > since)
                                 & (DeviceListChange.stream_position <= upto)).tuples()}
    out.device_lists_changed = sorted(RoomInterest(service).users_of_interest(changed))
    own = {user for user in concerned | recipients | changed
           if service.is_interested_in_user(user)}
    _key_counts(sorted(own), out)
    return out


def _to_device(service: AppService, since: int, upto: int, out: Extensions) -> None:
    position = ToDeviceMessage.stream_position
    after = 0
    while True:
        rows = list(ToDeviceMessage.select(ToDeviceMessage.id, ToDeviceMessage.user_id)
                    .where((position > since) & (position <= upto)
                           & (ToDeviceMessage.id > after))
                    .order_by(ToDeviceMessage.id).limit(_SCAN_BATCH).tuples())
        out.to_device_ids += [message_id for message_id, user_id in rows
                              if service.is_interested_in_user(user_id)]
        if len(rows) < _SCAN_BATCH:
            break
        after = rows[-1][0]
    for start in range(0, len(out.to_device_ids), _SCAN_BATCH):
        chunk = out.to_device_ids[start:start + _SCAN_BATCH]
        for row in (ToDeviceMessage.select().where(ToDeviceMessage.id.in_(chunk))
                    .order_by(ToDeviceMessage.id)):
            out.delivered.setdefault((row.user_id, row.device_id), []).append(row.id)
            out.to_device.append({"type": row.type, "sender": row.sender,
                                  "content": json.loads(row.content),
                                  "to_user_id": row.user_id, "to_device_id": row.device_id})


def _key_counts(user_ids: list[str], out: Extensions) -> None:
    if not user_ids:
        return
    devices = (DeviceKeys.select(DeviceKeys.user_id, DeviceKeys.device_id)
               .where(DeviceKeys.user_id.in_(user_ids))
               .order_by(DeviceKeys.user_id, DeviceKeys.device_id)
               .limit(MAX_KEY_COUNT_DEVICES).tuples())
    for user_id, device_id in devices:
        one_time, fallback = key_counts(user_id, device_id)
        out.one_time_key_counts.setdefault(user_id, {})[device_id] = one_time
        out.unused_fallback_key_types.setdefault(user_id, {})[device_id] = fallback


def acknowledge(extensions: Extensions) -> None:
    """Inside the transaction that stores the service's transaction: its to-device messages
    leave their queues (and those waiting behind them get a stream position, so a later
    transaction carries them)."""
    if extensions.to_device_ids:
        to_device.acknowledge_delivered(extensions.delivered)
