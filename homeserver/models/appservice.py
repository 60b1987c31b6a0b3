"""Delivery of events to application services (services/appservice/sender.py)."""

import peewee

from ..db import BaseModel


class AppServiceState(BaseModel):
    """Where delivery to one service stands; the row is created when the service is first seen."""

    service_id = peewee.CharField(primary_key=True, max_length=255)
    # Every stream position up to this one has been looked at and what interests the service
    # is in a stored transaction (or was delivered).
    stream_position = peewee.BigIntegerField()
    # The txnId of the next transaction built (txnIds are never reused, even across restarts).
    next_txn_id = peewee.BigIntegerField(default=1)
    last_success_ts = peewee.BigIntegerField(null=True)
    # While the service fails: since when, the wait before the next attempt, and why.
    failing_since_ts = peewee.BigIntegerField(null=True)
    backoff_ms = peewee.BigIntegerField(default=0)
    retry_at_ts = peewee.BigIntegerField(null=True)
    last_error = peewee.TextField(null=True)
    # The process that sends to this service (one at a time among gunicorn's workers), and
    # until when its claim holds without being renewed.
    lease_owner = peewee.CharField(null=True, max_length=64)
    lease_until_ts = peewee.BigIntegerField(null=True)


class AppServiceTransaction(BaseModel):
    """A transaction built and not yet acknowledged: sent (again) until the service answers
    200, in txnId order."""

    service_id = peewee.CharField(max_length=255)
    txn_id = peewee.BigIntegerField()
    # The JSON body of PUT /_matrix/app/v1/transactions/{txnId}.
    body = peewee.TextField()
    event_count = peewee.IntegerField()
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("service_id", "txn_id")


class AppServiceRoomList(BaseModel):
    """Rooms a service published in the room directory of one of its networks (PUT
    /directory/list/appservice/{networkId}/{roomId}); /publicRooms lists them under the
    third_party_instance_id ``<service id>|<network id>``."""

    service_id = peewee.CharField(max_length=255)
    network_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255, index=True)

    class Meta:
        primary_key = peewee.CompositeKey("service_id", "network_id", "room_id")


class AppServiceProtocolCache(BaseModel):
    """A service's answer to GET /thirdparty/protocol/{protocol}, kept for an hour as Synapse
    does (clients ask for the protocol list often; the metadata rarely changes)."""

    service_id = peewee.CharField(max_length=255)
    protocol = peewee.CharField(max_length=255)
    body = peewee.TextField()
    fetched_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("service_id", "protocol")
