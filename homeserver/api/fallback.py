"""The user-interactive auth fallback page (spec: "Fallback"): a web page per stage type that
completes that stage of a session, then tells the client through window.onAuthDone or
postMessage("authDone")."""

from flask import Blueprint, render_template, request

from .. import errors
from ..services import uia
from .auth import rate_rule
from .http import CLIENT_PREFIX, config

bp = Blueprint("auth_fallback", __name__, url_prefix=CLIENT_PREFIX)

_TEMPLATES = {
    uia.DUMMY: "auth_dummy.html",
    uia.PASSWORD: "auth_password.html",
    uia.REGISTRATION_TOKEN: "auth_registration_token.html",
}


def _session_param(source) -> str:
    session = source.get("session")
    if not session:
        raise errors.MissingParam("Missing parameter: session")
    return session


def _page(state: dict, error: str | None = None):
    template = "auth_done.html" if state["done"] else _TEMPLATES[state["stage"]]
    return render_template(template, session=state["session"], stage=state["stage"],
                           user_id=state["user_id"], error=error,
                           server_name=config().server_name)


@bp.get("/v3/auth/<auth_type>/fallback/web")
def fallback_page(auth_type):
    return _page(uia.fallback_state(_session_param(request.args), auth_type))


@bp.post("/v3/auth/<auth_type>/fallback/web")
def fallback_submit(auth_type):
    session = _session_param(request.form)
    error = None
    try:
        uia.submit_fallback(session, auth_type, request.form.to_dict(),
                            server_name=config().server_name,
                            failure_rule=rate_rule("login_failures_per_user"))
    except uia.StageFailed as exc:
        error = exc.message
    return _page(uia.fallback_state(session, auth_type), error)
