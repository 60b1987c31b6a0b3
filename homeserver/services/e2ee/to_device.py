"""Send-to-device messages (spec module: Send-to-Device messaging).

A message waits for its device until a /sync of that device acknowledges it: a sync whose
``since`` is at or past the message's stream position proves the client received the response
that carried it. A retried sync with an older ``since`` gets the same messages again, so a lost
response never loses one.

At most ``BATCH`` messages per device hold a stream position at a time; later ones queue with
none (NULL), so no response carries more than about a batch. Each /sync request, before its
response is built, deletes what its ``since`` acknowledges and gives the next queued messages a
fresh position (``release_batch``). A message with no position can be neither delivered nor
acknowledged, and the queued ones are always the newest, so delivery follows arrival order.

A device's queue holds at most ``e2e.max_queued_to_device_per_device`` messages: a new one
beyond drops the oldest message of the sender with the most queued for that device (not
refused: one abandoned device would then block every sender's key sharing with its user, as
clients send room keys to all of a user's devices in one request).
"""

from __future__ import annotations

import json
import logging

import peewee

from ... import errors
from ...db import database, run_sql, write_transaction
from ...identifiers import server_of
from ...models.to_device import ToDeviceMessage
from ...models.users import Device
from .. import canonical
from ..policy import txn_ids
from ..policy.txn_ids import TxnKey
from ..streams.positions import next_position

logger = logging.getLogger(__name__)

# Messages per /sync response (the spec recommends 100).
BATCH = 100
DEFAULT_MAX_QUEUED = 10_000
# The type column's size (as for room events, whose types the spec limits to 255 bytes).
MAX_TYPE_BYTES = 255


def _lock_device(user_id: str, device_id: str) -> None:
    """Serialise writers of one device's queue (SQLite's write lock already does). Taken
    before the stream counter, devices in (user, device) order, by every writer."""
    if not isinstance(database.obj, peewee.SqliteDatabase):
        list(Device.select(Device.device_id)
             .where((Device.user == user_id) & (Device.device_id == device_id)).for_update())


def _for_device(user_id: str, device_id: str):
    return (ToDeviceMessage.user_id == user_id) & (ToDeviceMessage.device_id == device_id)


def _targets(user_id: str, devices: dict[str, dict]) -> list[tuple[str, dict]]:
    known = [d for (d,) in Device.select(Device.device_id).where(Device.user == user_id)
             .order_by(Device.device_id).tuples()]
    if "*" in devices:
        return [(device_id, devices["*"]) for device_id in known]
    return [(device_id, content) for device_id, content in devices.items()
            if device_id in set(known)]


def send(sender: str, sender_device: str, event_type: str, txn_id: str,
         messages: dict[str, dict[str, dict]], server_name: str, *,
         max_queued: int = DEFAULT_MAX_QUEUED) -> None:
    """Queue ``messages`` ({user: {device or "*": content}}) once per (device, txn_id)."""
    if not event_type or len(event_type.encode("utf-8")) > MAX_TYPE_BYTES:
        raise errors.InvalidParam(f"An event type must be 1 to {MAX_TYPE_BYTES} bytes long")
    txn = TxnKey(sender, sender_device, f"sendToDevice/{event_type}", txn_id)
    canonical.check_canonical(messages, where="messages")
    try:
        with write_transaction():
            if txn_ids.previous_result(txn) is not None:
                return
            recipients = []
            for user_id, devices in sorted(messages.items()):
                if server_of(user_id) != server_name:
                    continue  # this server does not federate: remote users are unreachable
                for device_id, content in _targets(user_id, devices):
                    recipients.append((user_id, device_id, content))
            # Lock order: the devices' queues, sorted, then the stream counter (as
            # release_batch does), or a sender and a sync would each wait for the other.
            recipients.sort(key=lambda r: (r[0], r[1]))
            for user_id, device_id, _ in recipients:
                _lock_device(user_id, device_id)
            if recipients:
                position = next_position(users={user_id for user_id, _, _ in recipients})
                for user_id, device_id, content in recipients:
                    _queue(user_id, device_id, sender, event_type, content, position,
                           max_queued)
            txn_ids.record(txn, {})
    except peewee.IntegrityError:
        # The same transaction ran concurrently and committed first: it is done.
        return


def _make_room(user_id: str, device_id: str, max_queued: int) -> None:
    """A full queue drops the oldest message of the sender with the most queued for the
    device: a flood evicts the flooder's own messages, never the others' (room keys)."""
    mine = _for_device(user_id, device_id)
    if ToDeviceMessage.select().where(mine).count() < max_queued:
        return
    count = peewee.fn.COUNT(ToDeviceMessage.id)
    biggest = (ToDeviceMessage.select(ToDeviceMessage.sender).where(mine)
               .group_by(ToDeviceMessage.sender).order_by(count.desc(), ToDeviceMessage.sender)
               .limit(1).scalar())
    oldest = (ToDeviceMessage.select(peewee.fn.MIN(ToDeviceMessage.id))
              .where(mine & (ToDeviceMessage.sender == biggest)).scalar())
    ToDeviceMessage.delete().where(ToDeviceMessage.id == oldest).execute()
    logger.info("to-device queue of %s/%s is full: dropped the oldest message of %s",
                user_id, device_id, biggest)


def _queue(user_id: str, device_id: str, sender: str, event_type: str, content: dict,
           position: int, max_queued: int) -> None:
    """Queue one message (the caller holds the device's lock)."""
    _make_room(user_id, device_id, max_queued)
    total, positioned = (ToDeviceMessage.select(peewee.fn.COUNT(ToDeviceMessage.id),
                                                peewee.fn.COUNT(ToDeviceMessage.stream_position))
                         .where(_for_device(user_id, device_id)).tuples().get())
    # Behind queued messages, or the batch is full: queue (keeps arrival order, bounds batches).
    full = total > positioned or positioned >= BATCH
    ToDeviceMessage.insert(user_id=user_id, device_id=device_id,
                           stream_position=None if full else position, sender=sender,
                           type=event_type, content=json.dumps(content)).execute()


# Messages waiting for a position, or delivered at or below a since token (-1: none given;
# positions start at 0).
_WAITING_OR_DELIVERED = (f"SELECT 1 FROM {ToDeviceMessage._meta.table_name} WHERE user_id = ? "
                         "AND device_id = ? AND (stream_position IS NULL OR stream_position <= ?) "
                         "LIMIT 1")


def release_batch(user_id: str, device_id: str, since: int | None) -> None:
    """Acknowledge what ``since`` covers, then give up to a batch of waiting messages a
    position. Runs before a sync's response is built (so the position is at or below the
    response's next_batch)."""
    mine = _for_device(user_id, device_id)
    # Most syncs have nothing to acknowledge or release: no write transaction for them (a
    # fixed statement, db.run_sql: every /sync asks).
    found = run_sql(_WAITING_OR_DELIVERED,
                    (user_id, device_id, -1 if since is None else since)).fetchone()
    if found is None:
        return
    with write_transaction():
        _lock_device(user_id, device_id)
        if since is not None:
            (ToDeviceMessage.delete()
             .where(mine & (ToDeviceMessage.stream_position <= since)).execute())
        head = list(ToDeviceMessage.select(ToDeviceMessage.id, ToDeviceMessage.stream_position)
                    .where(mine).order_by(ToDeviceMessage.id).limit(BATCH).tuples())
        waiting = [message_id for message_id, position in head if position is None]
        if waiting:
            position = next_position(users=[user_id])
            (ToDeviceMessage.update(stream_position=position)
             .where(ToDeviceMessage.id.in_(waiting)).execute())


def acknowledge_delivered(delivered: dict[tuple[str, str], list[int]]) -> None:
    """Messages delivered otherwise than by /sync (to an application service, for its users'
    devices), by (user, device): delete them and give the next waiting messages of those
    devices a position. Call inside the write transaction that records the delivery."""
    for user_id, device_id in sorted(delivered):
        _lock_device(user_id, device_id)
    released = []
    for (user_id, device_id), message_ids in sorted(delivered.items()):
        ToDeviceMessage.delete().where(_for_device(user_id, device_id)
                                       & ToDeviceMessage.id.in_(message_ids)).execute()
        head = list(ToDeviceMessage.select(ToDeviceMessage.id, ToDeviceMessage.stream_position)
                    .where(_for_device(user_id, device_id)).order_by(ToDeviceMessage.id)
                    .limit(BATCH).tuples())
        released += [message_id for message_id, position in head if position is None]
    if released:
        position = next_position(users=sorted({user_id for user_id, _ in delivered}))
        (ToDeviceMessage.update(stream_position=position)
         .where(ToDeviceMessage.id.in_(released)).execute())


def messages_between(user_id: str, device_id: str, since: int | None, upto: int) -> list[dict]:
    """The messages a sync from ``since`` to ``upto`` carries, in arrival order."""
    query = (ToDeviceMessage.select(ToDeviceMessage.sender, ToDeviceMessage.type,
                                    ToDeviceMessage.content)
             .where(_for_device(user_id, device_id)
                    & (ToDeviceMessage.stream_position <= upto))
             .order_by(ToDeviceMessage.id))
    if since is not None:
        query = query.where(ToDeviceMessage.stream_position > since)
    return [{"sender": sender, "type": event_type, "content": json.loads(content)}
            for sender, event_type, content in query.tuples()]
