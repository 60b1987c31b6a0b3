"""The user-interactive auth fallback page (spec: "Fallback"): a web page per stage type that
completes that stage of a session, then tells the client through window.onAuthDone or
postMessage("authDone")."""

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from .. import errors
from ..services.accounts import uia, uia_stages
from .http import CLIENT_PREFIX, client_ip, config, private_page, rate_rule

bp = Blueprint("auth_fallback", __name__, url_prefix=CLIENT_PREFIX)

_TEMPLATES = {
    uia_stages.DUMMY: "auth_dummy.html",
    uia.PASSWORD: "auth_password.html",
    uia.REGISTRATION_TOKEN: "auth_registration_token.html",
}


def _session_param(source) -> str:
    session = source.get("session")
    if not session:
        raise errors.MissingParam("Missing parameter: session")
    return session


# What a session authorises, by the endpoint that started it: the page names it, so nobody
# types their password without knowing what it confirms.
_ACTIONS = {
    "account.change_password": "change the password of {user}",
    "account.deactivate": "deactivate the account {user}",
    "devices.delete_device": "delete a device (sign it out) of {user}",
    "devices.delete_devices": "delete devices (sign them out) of {user}",
    "login.get_login_token": "sign {user} in on another device",
    "keys.upload_cross_signing_keys": "replace the cross-signing keys of {user}",
    "register.register": "register a new account on {server}",
}


def describe_action(state: dict) -> str:
    try:
        endpoint, _ = current_app.url_map.bind("").match(state["path"], state["method"])
    except HTTPException:
        endpoint = None
    server = config().server_name
    template = _ACTIONS.get(endpoint, "continue a request for {user}")
    return template.format(user=state["user_id"] or "a new account", server=server)


def _page(state: dict, error: str | None = None):
    template = "auth_done.html" if state["done"] else _TEMPLATES[state["stage"]]
    return render_template(template, session=state["session"], stage=state["stage"],
                           user_id=state["user_id"], action=describe_action(state), error=error,
                           server_name=config().server_name)


# A page that takes a password must not be framed (clickjacking) nor leak its URL.
bp.after_request(private_page)


@bp.get("/v3/auth/<auth_type>/fallback/web")
def fallback_page(auth_type):
    return _page(uia.fallback_state(_session_param(request.args), auth_type))


@bp.post("/v3/auth/<auth_type>/fallback/web")
def fallback_submit(auth_type):
    session = _session_param(request.form)
    error = None
    try:
        uia.submit_fallback(session, auth_type, request.form.to_dict(),
                            server_name=config().server_name, ip=client_ip(),
                            failure_rule=rate_rule("login_failures_per_user"),
                            ip_rule=rate_rule("login_per_ip"))
    except uia.StageFailed as exc:
        error = exc.message
    return _page(uia.fallback_state(session, auth_type), error)
