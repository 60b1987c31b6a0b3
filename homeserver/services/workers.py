"""The background workers a process starts at its first request (create_app registers the
hook; see services/background.py for why at the first request), each with its settings: the
typing/presence expiry sweep and the push sender always (typing, presence and pushers may be
written at any time, and neither costs anything while idle), the others when they find work
left in the database from before this process, e.g. after a restart; the writes that make
such work start those (a deactivation with rooms left to leave, a mail queued)."""

from __future__ import annotations

from . import retention
from .accounts import deactivation, guest_expiry
from .appservice import sender as appservice_sender
from .background import stop_all
from .ephemeral import expiry as ephemeral_expiry
from .mail import outbox as mail_outbox
from .push import email_notifs
from .push import sender as push_sender
from .streams import notifier

__all__ = ["start", "stop_all"]


def start(config) -> None:
    # The stream listener: long-polls and the workers below wait on it.
    notifier.start_listener()
    # Queued notifications go to push gateways (those queued before a restart included).
    push_sender.ensure_running(config.push)
    # Typing expiries and presence timeouts become stream positions.
    ephemeral_expiry.ensure_running()
    # Rooms a deactivated account had still to leave when a process stopped: leave them.
    deactivation.start_sweep_if_work()
    # Guest accounts left idle expire.
    guest_expiry.start_if_work(config.registration)
    # Mails queued before a restart (or while the SMTP server was down) go out.
    mail_outbox.start_if_work(config.email)
    # Notification mails look for unread notifications all the time they are on.
    if config.email is not None and config.email["enable_notifs"]:
        email_notifs.ensure_running(config.email, config.base_url)
    # Application services are sent what happened since they were last sent anything.
    appservice_sender.start_all(config.app_services,
                                appservice_sender.Settings.from_config(config))
    # Old notifications, expired sessions, reservations, previews and txnIds: deleted.
    retention.ensure_running(config.retention)
