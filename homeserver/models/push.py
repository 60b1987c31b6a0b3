"""Push rules, per-event push actions (notification counts, /notifications) and pushers."""

import peewee

from ..db import BaseModel


class PushRule(BaseModel):
    """A user-defined push rule. ``priority`` orders the rules of one kind: lower comes first."""

    user_id = peewee.CharField(max_length=255)
    kind = peewee.CharField(max_length=16)
    rule_id = peewee.CharField(max_length=255)
    priority = peewee.IntegerField()
    # JSON list of conditions (override/underride), null otherwise.
    conditions = peewee.TextField(null=True)
    # The glob of a content rule, null otherwise.
    pattern = peewee.TextField(null=True)
    actions = peewee.TextField()
    enabled = peewee.BooleanField(default=True)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "kind", "rule_id")


class PushRuleDefaultSetting(BaseModel):
    """A user's change to a server-default rule: enabled and/or actions (null: the default)."""

    user_id = peewee.CharField(max_length=255)
    rule_id = peewee.CharField(max_length=255)
    enabled = peewee.BooleanField(null=True)
    actions = peewee.TextField(null=True)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "rule_id")


class PushRulesVersion(BaseModel):
    """One row counting changes to anyone's push rules, so each process may keep compiled
    rules in memory and check them with one cheap read per event. ``version`` is random, set
    when the row is created (a database emptied or restored gets another one: caches start
    over); ``seq`` grows by one with each change (PushRulesUserVersion says whose)."""

    id = peewee.IntegerField(primary_key=True)
    version = peewee.BigIntegerField()
    seq = peewee.BigIntegerField(default=0)


class PushRulesUserVersion(BaseModel):
    """A user who has rules of their own or changed a default: ``seq`` is the
    PushRulesVersion.seq of their last change. Its row is also the lock that serializes
    that user's rule changes."""

    user_id = peewee.CharField(max_length=255, primary_key=True)
    seq = peewee.BigIntegerField(index=True)


class Pusher(BaseModel):
    """A user's pusher (POST /pushers/set): where and how to send push notifications."""

    user_id = peewee.CharField(max_length=255, index=True)
    # The device whose access token set it up (its logout removes the pusher).
    device_id = peewee.CharField(max_length=255, null=True)
    kind = peewee.CharField(max_length=32)
    app_id = peewee.CharField(max_length=64)
    pushkey = peewee.CharField(max_length=512)
    app_display_name = peewee.TextField()
    device_display_name = peewee.TextField()
    profile_tag = peewee.TextField(null=True)
    lang = peewee.CharField(max_length=64)
    # The pusher's data object as JSON (url, format, custom keys).
    data = peewee.TextField()
    created_ts = peewee.BigIntegerField()
    # "scheme://host:port" of data.url: deliveries are limited per gateway.
    gateway = peewee.TextField(default="")

    class Meta:
        indexes = ((("app_id", "pushkey", "user_id"), True),)


class PushDelivery(BaseModel):
    """A notification still to send to a pusher's gateway: the durable work queue.

    Rows are written in the event's transaction and deleted once the gateway accepted them (or
    gave up on): a crash or restart loses nothing. A sender claims a row by setting ``claim``
    and ``claimed_until``; a claim that ran out is taken over by another sender.
    """

    pusher = peewee.ForeignKeyField(Pusher, on_delete="CASCADE", index=True)
    event_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    stream_ordering = peewee.BigIntegerField()
    # The push actions (JSON) the rules gave this event for the pusher's user.
    actions = peewee.TextField()
    attempts = peewee.IntegerField(default=0)
    next_attempt_ts = peewee.BigIntegerField(index=True)
    claim = peewee.CharField(max_length=64, null=True)
    claimed_until = peewee.BigIntegerField(null=True)
    created_ts = peewee.BigIntegerField()


class NotifyingEvent(BaseModel):
    """An event whose most common push outcome among the room's members notifies: that
    outcome (``actions``) holds for every member at the time but the sender, except members
    with a PushAction row for the event. One row per event whatever the room's size; written
    in the event's own transaction."""

    stream_ordering = peewee.BigIntegerField(primary_key=True)
    event_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    sender = peewee.CharField(max_length=255)
    # "main" or the event ID of the thread root the event belongs to.
    thread_id = peewee.CharField(max_length=255)
    actions = peewee.TextField()
    highlight = peewee.BooleanField()
    ts = peewee.BigIntegerField()

    class Meta:
        indexes = ((("room_id", "stream_ordering"), False),)


class PushAction(BaseModel):
    """A member whose push outcome for an event differs from the event's most common one
    (NotifyingEvent, or "no notification" when the event has none): ``notify`` says whether
    it notifies them, with ``actions``. Mentions, invites, ignored senders and personal rules
    make these. Written in the event's own transaction."""

    user_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    event_id = peewee.CharField(max_length=255)
    stream_ordering = peewee.BigIntegerField()
    # "main" or the event ID of the thread root the event belongs to.
    thread_id = peewee.CharField(max_length=255)
    actions = peewee.TextField()
    highlight = peewee.BooleanField()
    ts = peewee.BigIntegerField()
    notify = peewee.BooleanField(default=True)

    class Meta:
        indexes = (
            (("user_id", "room_id", "stream_ordering"), False),
            (("user_id", "stream_ordering"), False),
            (("event_id", "user_id"), True),
        )


class ReadPosition(BaseModel):
    """How far a user has read a room, for notification counts: the furthest of their m.read
    and m.read.private receipts and their own events. ``thread_key`` is "" for unthreaded
    receipts (the whole room), else "main" or a thread root's event ID. Only moves forward."""

    user_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    thread_key = peewee.CharField(max_length=255)
    stream_ordering = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "room_id", "thread_key")
