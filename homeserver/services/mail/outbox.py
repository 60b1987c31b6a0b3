"""The mail outbox: mails are rows (``OutgoingMail``) written in the transaction that decided
to send them, and a per-process sender thread hands them to the SMTP server (smtp.py).

So a request never waits for SMTP and holds no lock while mail goes out, a mail survives a
restart (``start_if_work`` at a process's first request) and an SMTP server that is down: a
failed attempt is retried with backoff until ``email.give_up_after_ms``; a 5xx refusal drops
the mail. A sender claims a row by moving its ``next_attempt_ts`` forward past the SMTP
timeout, so two processes do not send the same mail at once. The row is deleted once the SMTP
server accepted the mail (the outbox holds validation tokens: they do not stay at rest).
"""

from __future__ import annotations

import logging
import threading

from ... import clock
from ...db import write_transaction
from ...models.email import OutgoingMail
from .. import background
from ..server import metrics
from . import smtp as mailer

logger = logging.getLogger(__name__)

FIRST_RETRY_MS = 10_000
MAX_RETRY_MS = 30 * 60 * 1000
BATCH = 20
IDLE_POLL_S = 1.0

_wake = threading.Event()


def enqueue(settings: dict, recipient: str, subject: str, text: str,
            headers: dict | None = None) -> None:
    """Queue one mail; call inside the write transaction that decided to send it, then
    ``kick(settings)`` after the commit."""
    now = clock.now_ms()
    OutgoingMail.insert(recipient=recipient,
                        message=mailer.build_message(settings, recipient, subject, text,
                                                     headers),
                        next_attempt_ts=now, created_ts=now).execute()


def kick(settings: dict) -> None:
    """Make sure this process's sender runs, and wake it: a mail was queued."""
    _sender.ensure_running(
        prepare=lambda: (settings,) if background.on_stop(_wake.set) else None)
    _wake.set()


def start_if_work(settings: dict | None) -> None:
    """At a process's first request: send what an earlier process left in the outbox."""
    if settings is not None and OutgoingMail.select().exists():
        kick(settings)


def _claim(row: OutgoingMail, until: int) -> bool:
    with write_transaction():
        return OutgoingMail.update(next_attempt_ts=until).where(
            (OutgoingMail.id == row.id)
            & (OutgoingMail.next_attempt_ts == row.next_attempt_ts)).execute() == 1


def _send_one(settings: dict, row: OutgoingMail, now: int) -> None:
    try:
        mailer.send(settings, row.recipient, row.message)
        metrics.mail_handled("sent")
    except mailer.PermanentFailure as exc:
        metrics.mail_handled("refused")
        logger.warning("mail %d refused by the SMTP server, dropped: %s", row.id, exc)
    except Exception as exc:  # noqa: BLE001 - network, TLS, 4xx: all retried
        if now - row.created_ts >= settings["give_up_after_ms"]:
            metrics.mail_handled("expired")
            logger.error("mail %d could not be sent for %d ms, dropped: %s", row.id,
                         now - row.created_ts, exc)
        else:
            metrics.mail_handled("retry")
            delay = min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** min(row.attempts, 20))
            logger.warning("mail %d not sent (attempt %d), retry in %d s: %s", row.id,
                           row.attempts + 1, delay // 1000, exc)
            with write_transaction():
                OutgoingMail.update(attempts=row.attempts + 1,
                                    next_attempt_ts=clock.now_ms() + delay).where(
                    OutgoingMail.id == row.id).execute()
            return
    with write_transaction():
        OutgoingMail.delete().where(OutgoingMail.id == row.id).execute()


def send_due(settings: dict, stop: threading.Event | None = None) -> int | None:
    """Send the mails that are due; the time the next one is due (None: the outbox is empty)."""
    # A claim lasts past one SMTP conversation (connect, TLS, login, data) at its timeouts.
    claim_ms = int(settings["smtp_timeout_s"] * 6 * 1000)
    while stop is None or not stop.is_set():
        now = clock.now_ms()
        due = list(OutgoingMail.select().where(OutgoingMail.next_attempt_ts <= now)
                   .order_by(OutgoingMail.next_attempt_ts).limit(BATCH))
        for row in due:
            if stop is not None and stop.is_set():
                break
            if _claim(row, now + claim_ms):
                _send_one(settings, row, now)
        if len(due) < BATCH:
            break
    nxt = (OutgoingMail.select(OutgoingMail.next_attempt_ts)
           .order_by(OutgoingMail.next_attempt_ts).limit(1).first())
    return nxt.next_attempt_ts if nxt is not None else None


def _run(stop: threading.Event, settings: dict) -> None:
    failures = background.FailureLog(logger, "mail outbox")
    while not stop.is_set():
        _wake.clear()
        try:
            next_due = send_due(settings, stop)
            failures.succeeded()
            if next_due is None:
                # Nothing left: end, unless a mail was queued meanwhile (kick set _wake).
                if _sender.done_if(lambda: not _wake.is_set()):
                    return
                continue
            wait_s = max(0.0, (next_due - clock.now_ms()) / 1000.0)
        except Exception as exc:  # noqa: BLE001 - the sender must outlive any one failure
            failures.failed(exc, stop)
            wait_s = IDLE_POLL_S * 5
        finally:
            background.release_connection()
        _wake.wait(min(wait_s, 60.0))


_sender = background.Worker("mail-outbox", _run)
