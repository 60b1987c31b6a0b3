"""Notification mails (``email.enable_notifs``, as Synapse's ``email.enable_notifs``): a user
with an email pusher (POST /pushers/set, kind ``email``) gets a mail listing the
notifications they left unread for ``email.notif_delay_ms``, at most one mail per pusher per
delay. A per-process sweep thread reads the notifications (the ones GET /notifications lists)
and queues the mail in the outbox (mail/outbox.py) in the transaction that records what it
covered, so a notification is mailed once. Each pusher is looked at about once a minute
whatever the number of processes (a claim on its state row). Each mail has an unsubscribe link (and RFC 8058
List-Unsubscribe headers) that removes the pusher (api/email_validation.py).
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

from ... import clock
from ...db import write_transaction
from ...models.email import EmailPusherState
from ...models.push import Pusher
from .. import background
from .. import client_secrets
from ..mail import outbox as mail_outbox
from ..rooms import state as room_state
from . import notifications

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 60.0
# Notifications one mail lists (the newest); the count says how many there are in all.
MAX_LISTED = 20
UNSUBSCRIBE_PATH = "/_homeserver/email/unsubscribe"
MAX_BODY_CHARS = 300

_wake = threading.Event()


def ensure_running(settings: dict, base_url: str) -> None:
    """Start this process's sweep (at its first request, when notification mails are on)."""
    _sweeper.ensure_running(
        prepare=lambda: (settings, base_url) if background.on_stop(_wake.set) else None)


def kick() -> None:
    """Sweep now (tests; an operator's nudge)."""
    _wake.set()


def _run(stop: threading.Event, settings: dict, base_url: str) -> None:
    failures = background.FailureLog(logger, "notification mails sweep")
    while not stop.is_set():
        _wake.clear()
        try:
            sweep(settings, base_url)
            failures.succeeded()
        except Exception as exc:  # noqa: BLE001 - the sweep must outlive any one failure
            failures.failed(exc, stop)
        finally:
            background.release_connection()
        _wake.wait(SWEEP_INTERVAL_S)


def sweep(settings: dict, base_url: str) -> int:
    """Mail every email pusher that is due; the number of mails queued."""
    now = clock.now_ms()
    queued = 0
    for pusher in Pusher.select().where(Pusher.kind == "email").order_by(Pusher.id):
        if _mail_pusher(pusher, now, settings, base_url):
            queued += 1
    if queued:
        mail_outbox.kick(settings)
    return queued


def _state(pusher: Pusher) -> EmailPusherState:
    state = EmailPusherState.get_or_none(EmailPusherState.pusher_id == pusher.id)
    if state is not None and (state.user_id, state.pushkey) == (pusher.user_id, pusher.pushkey):
        return state
    # A new pusher mails about what came since it was set, not the account's old backlog.
    with write_transaction():
        if state is not None:  # left by a deleted pusher whose ID was used again
            EmailPusherState.delete().where(EmailPusherState.pusher_id == pusher.id).execute()
        EmailPusherState.insert(pusher_id=pusher.id, user_id=pusher.user_id,
                                pushkey=pusher.pushkey,
                                mailed_upto_ts=pusher.created_ts - 1,
                                unsubscribe_token=client_secrets.generate("", 32)
                                ).on_conflict_ignore().execute()
    return EmailPusherState.get(EmailPusherState.pusher_id == pusher.id)


def _mail_pusher(pusher: Pusher, now: int, settings: dict, base_url: str) -> bool:
    state = _state(pusher)
    delay = settings["notif_delay_ms"]
    if state.last_mail_ts is not None and now - state.last_mail_ts < delay:
        return False
    with write_transaction():
        claimed = EmailPusherState.update(
            next_check_ts=now + int(SWEEP_INTERVAL_S * 1000) - 1000).where(
            (EmailPusherState.pusher_id == pusher.id)
            & (EmailPusherState.next_check_ts <= now)).execute()
    if not claimed:
        return False  # another process's sweep looked at it a moment ago
    page = notifications.list_notifications(pusher.user_id, None, from_token=None,
                                            limit=MAX_LISTED * 2, only=None)
    unread = [n for n in page["notifications"]
              if not n["read"] and n["ts"] > state.mailed_upto_ts]
    if not unread or min(n["ts"] for n in unread) > now - delay:
        return False  # nothing unread, or not unread for long enough yet
    upto = max(n["ts"] for n in unread)
    text = _text(pusher, unread, settings, base_url, state.unsubscribe_token)
    subject = (f"[{settings['app_name']}] You have {len(unread)} unread "
               f"notification{'s' if len(unread) != 1 else ''}")
    link = _unsubscribe_link(base_url, pusher.id, state.unsubscribe_token)
    with write_transaction():
        claimed = EmailPusherState.update(mailed_upto_ts=upto, last_mail_ts=now).where(
            (EmailPusherState.pusher_id == pusher.id)
            & (EmailPusherState.mailed_upto_ts == state.mailed_upto_ts)).execute()
        if not claimed:
            return False  # another process mailed it meanwhile
        mail_outbox.enqueue(settings, pusher.pushkey, subject, text, headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return True


def _unsubscribe_link(base_url: str, pusher_id: int, token: str) -> str:
    return f"{base_url}{UNSUBSCRIBE_PATH}?" + urlencode({"pusher": pusher_id, "token": token})


def _room_name(room_id: str) -> str:
    name = room_state.content_of(room_state.state_event(room_id, "m.room.name", "")).get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    alias = room_state.content_of(
        room_state.state_event(room_id, "m.room.canonical_alias", "")).get("alias")
    return alias if isinstance(alias, str) and alias else "a conversation"


def _sender_name(room_id: str, sender: str) -> str:
    name = room_state.content_of(
        room_state.state_event(room_id, "m.room.member", sender)).get("displayname")
    return name.strip() if isinstance(name, str) and name.strip() else sender


def _describe(event: dict) -> str:
    content = event.get("content") or {}
    if event.get("type") == "m.room.encrypted":
        return "(an encrypted message)"
    if event.get("type") == "m.room.member" and content.get("membership") == "invite":
        return "(invited you)"
    body = content.get("body")
    if isinstance(body, str) and body.strip():
        body = " ".join(body.split())
        return body if len(body) <= MAX_BODY_CHARS else body[:MAX_BODY_CHARS] + "…"
    return f"({event.get('type')})"


def _text(pusher: Pusher, unread: list[dict], settings: dict, base_url: str,
          token: str) -> str:
    by_room: dict[str, list[dict]] = {}
    for note in reversed(unread[:MAX_LISTED]):  # oldest first within the newest listed
        by_room.setdefault(note["room_id"], []).append(note)
    lines = [f"You have {len(unread)} unread notification{'s' if len(unread) != 1 else ''} "
             f"on {settings['app_name']} ({pusher.user_id}).", ""]
    for room_id, notes in by_room.items():
        lines.append(_room_name(room_id))
        for note in notes:
            event = note["event"]
            lines.append(f"  {_sender_name(room_id, event.get('sender', ''))}: "
                         f"{_describe(event)}")
        lines.append("")
    if settings.get("client_base_url"):
        lines += [f"Read them: {settings['client_base_url']}", ""]
    lines += [f"You get these mails because notification mails to {pusher.pushkey} are on.",
              f"Stop them: {_unsubscribe_link(base_url, pusher.id, token)}"]
    return "\n".join(lines) + "\n"


def unsubscribe(pusher_id: str, token: str) -> bool:
    """Remove the email pusher an unsubscribe link names; False if the link is wrong."""
    if (not isinstance(pusher_id, str) or not pusher_id.isascii() or not pusher_id.isdigit()
            or len(pusher_id) > 18 or not isinstance(token, str)):
        return False
    state = EmailPusherState.get_or_none(EmailPusherState.pusher_id == int(pusher_id))
    if state is None or not client_secrets.same(state.unsubscribe_token, token):
        return False
    with write_transaction():
        Pusher.delete().where((Pusher.id == state.pusher_id) & (Pusher.kind == "email")
                              & (Pusher.user_id == state.user_id)
                              & (Pusher.pushkey == state.pushkey)).execute()
        EmailPusherState.delete().where(EmailPusherState.pusher_id == state.pusher_id).execute()
    return True


_sweeper = background.Worker("email-notifs", _run)
