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
"""

from __future__ import annotations

import json

import peewee

from .. import errors
from ..db import database, write_transaction
from ..identifiers import server_of
from ..models.to_device import ToDeviceMessage
from ..models.users import Device
from . import canonical, txn_ids
from .streams import next_position
from .txn_ids import TxnKey

# Messages per /sync response (the spec recommends 100).
BATCH = 100
# The type column's size (as for room events, whose types the spec limits to 255 bytes).
MAX_TYPE_BYTES = 255


def _lock_device(user_id: str, device_id: str) -> None:
    """Serialise writers of one device's queue (SQLite's write lock already does)."""
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
         messages: dict[str, dict[str, dict]], server_name: str) -> None:
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
            if recipients:
                position = next_position(users={user_id for user_id, _, _ in recipients})
                for user_id, device_id, content in recipients:
                    _queue(user_id, device_id, sender, event_type, content, position)
            txn_ids.record(txn, {})
    except peewee.IntegrityError:
        # The same transaction ran concurrently and committed first: it is done.
        return


def _queue(user_id: str, device_id: str, sender: str, event_type: str, content: dict,
           position: int) -> None:
    _lock_device(user_id, device_id)
    total, positioned = (ToDeviceMessage.select(peewee.fn.COUNT(ToDeviceMessage.id),
                                                peewee.fn.COUNT(ToDeviceMessage.stream_position))
                         .where(_for_device(user_id, device_id)).tuples().get())
    # Behind queued messages, or the batch is full: queue (keeps arrival order, bounds batches).
    full = total > positioned or positioned >= BATCH
    ToDeviceMessage.insert(user_id=user_id, device_id=device_id,
                           stream_position=None if full else position, sender=sender,
                           type=event_type, content=json.dumps(content)).execute()


def release_batch(user_id: str, device_id: str, since: int | None) -> None:
    """Acknowledge what ``since`` covers, then give up to a batch of waiting messages a
    position. Runs before a sync's response is built (so the position is at or below the
    response's next_batch)."""
    mine = _for_device(user_id, device_id)
    work = ToDeviceMessage.stream_position.is_null()
    if since is not None:
        work |= ToDeviceMessage.stream_position <= since
    # Most syncs have nothing to acknowledge or release: no write transaction for them.
    if not ToDeviceMessage.select().where(mine & work).exists():
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
