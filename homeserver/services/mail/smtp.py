"""Mail over SMTP (smtplib): building a message and handing it to the configured server.

Only the outbox's sender thread (mail_outbox.py) calls ``send``, never a request: every socket
operation waits at most ``email.smtp_timeout_s``. TLS: ``enable_tls`` wraps the connection from
the first byte (SMTPS); otherwise STARTTLS is used when the server offers it, and
``require_transport_security`` refuses to send without it. Certificates are checked unless
``tls_verify`` is false.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from ... import errors

MAX_ADDRESS_LENGTH = 320


class PermanentFailure(Exception):
    """The SMTP server refused this mail for good (5xx): sending it again cannot work."""


def normalise_address(address: str) -> str:
    """The canonical form of an email address (trimmed, lower case, as Synapse), or
    M_INVALID_PARAM. Only ``local@domain`` with no spaces, controls or angle brackets: the
    address goes into a mail header and a SMTP command."""
    text = address.strip().lower() if isinstance(address, str) else ""
    local, at, domain = text.rpartition("@")
    if (not at or not local or not domain or len(text) > MAX_ADDRESS_LENGTH
            or any(ch.isspace() or ord(ch) < 32 or ch in "<>,;\"\\()[]" or ord(ch) == 127
                   for ch in text)
            or "." not in domain or domain.startswith(".") or domain.endswith(".")
            or "@" in local):
        raise errors.InvalidParam("Unable to parse email address")
    return text


def build_message(settings: dict, recipient: str, subject: str, text: str,
                  headers: dict | None = None) -> str:
    message = EmailMessage()
    message["From"] = settings["notif_from"]
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(settings["notif_from"])[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message.as_string()


def _tls_context(settings: dict) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not settings["tls_verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _connect(settings: dict) -> smtplib.SMTP:
    host, timeout = settings["smtp_host"], settings["smtp_timeout_s"]
    if settings["enable_tls"]:
        return smtplib.SMTP_SSL(host, settings["smtp_port"] or 465, timeout=timeout,
                                context=_tls_context(settings))
    smtp = smtplib.SMTP(host, settings["smtp_port"] or 25, timeout=timeout)
    try:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        elif settings["require_transport_security"]:
            raise smtplib.SMTPNotSupportedError(
                "the SMTP server does not offer STARTTLS (require_transport_security)")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(settings: dict, recipient: str, message: str) -> None:
    """Deliver one message; PermanentFailure for a 5xx refusal, other exceptions (network,
    timeouts, 4xx) for failures worth retrying."""
    sender = parseaddr(settings["notif_from"])[1]
    smtp = _connect(settings)
    try:
        if settings["smtp_user"] is not None:
            smtp.login(settings["smtp_user"], settings["smtp_pass"])
        smtp.sendmail(sender, [recipient], message.encode("utf-8"))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {codes}") from exc
        raise
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"refused: {exc.smtp_code}") from exc
        raise
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
