"""Outgoing mail: messages and SMTP (``smtp``), and the outbox a per-process thread sends
from (``outbox``). Who mails what: accounts/threepid_sessions (address validation),
push/email_notifs (notification mails).
"""
