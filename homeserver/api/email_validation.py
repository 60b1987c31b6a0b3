"""The pages a mail leads to: a validation mail's link (services/accounts/threepid_sessions.py)
and the ``submit_url`` a client posts a typed code to (with the Identity Service API's
``POST /validate/email/submitToken`` parameters, as the spec says of ``submit_url``); a
notification mail's unsubscribe link (services/push/email_notifs.py).

Opening the link validates the session, except for a password reset: that page asks to
confirm first (a button posting the form), so a victim who opens a reset mail somebody else
asked for, or a mail scanner fetching links, does not hand the account over.
"""

from flask import Blueprint, jsonify, redirect, render_template, request

from .. import errors
from ..services.accounts import threepid_sessions
from ..services.push import email_notifs
from .http import client_ip, config, json_body, private_page, rate_limit

bp = Blueprint("email_validation", __name__, url_prefix="/_homeserver/email")


@bp.before_request
def _only_with_email():
    if config().email is None:
        raise errors.Unrecognized("This server sends no mail")


# The URL holds the session's secret and token.
bp.after_request(private_page)


def _params(source) -> tuple[str, str, str]:
    return (source.get("sid", ""), source.get("client_secret", ""), source.get("token", ""))


def _result(session):
    cfg = config()
    if session is not None and session.next_link:
        return redirect(session.next_link, code=302)
    return render_template("email_validated.html", ok=session is not None,
                           app_name=cfg.email["app_name"], server_name=cfg.server_name,
                           password_reset=session is not None
                           and session.purpose == threepid_sessions.PASSWORD)


@bp.get("/validate")
def validation_link():
    sid, client_secret, token = _params(request.args)
    rate_limit("email_submit_ip", client_ip(), "login_per_ip")
    if threepid_sessions.is_password_reset(sid, client_secret):
        cfg = config()
        return render_template("email_confirm_reset.html", sid=sid, client_secret=client_secret,
                               token=token, app_name=cfg.email["app_name"],
                               server_name=cfg.server_name)
    return _result(threepid_sessions.submit_token(sid, client_secret, token))


@bp.post("/validate")
def validation_confirmed():
    sid, client_secret, token = _params(request.form)
    rate_limit("email_submit_ip", client_ip(), "login_per_ip")
    return _result(threepid_sessions.submit_token(sid, client_secret, token))


@bp.post("/submit_token")
def submit_token():
    body = json_body()
    rate_limit("email_submit_ip", client_ip(), "login_per_ip")
    session = threepid_sessions.submit_token(body.get("sid"), body.get("client_secret"),
                                             body.get("token"))
    return jsonify({"success": session is not None})


@bp.get("/unsubscribe")
def unsubscribe_page():
    # A page with a button: mail scanners fetch links, and must not unsubscribe anybody.
    cfg = config()
    return render_template("email_unsubscribe.html", done=False, ok=True,
                           pusher=request.args.get("pusher", ""),
                           token=request.args.get("token", ""),
                           app_name=cfg.email["app_name"], server_name=cfg.server_name)


@bp.post("/unsubscribe")
def unsubscribe():
    """The page's button, or a mail client's RFC 8058 one-click POST (parameters in the URL)."""
    rate_limit("email_submit_ip", client_ip(), "login_per_ip")
    cfg = config()
    done = email_notifs.unsubscribe(request.values.get("pusher", ""),
                                    request.values.get("token", ""))
    return render_template("email_unsubscribe.html", done=True, ok=done,
                           app_name=cfg.email["app_name"], server_name=cfg.server_name)
