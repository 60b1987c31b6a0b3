"""Login through an OpenID Connect provider (spec: "SSO client login/authentication").

    GET  /_matrix/client/v3/login/sso/redirect[/{idpId}]?redirectUrl=...   -> 302 to the provider
    GET  /_matrix/client/v3/auth/m.login.sso/fallback/web?session=...       (the UIA stage's page)
    GET  /_homeserver/client/sso/oidc/callback?code=...&state=...          <- the provider's answer
    POST /_homeserver/client/sso/new_user    (the username page of a first login)

The redirect endpoints answer the client's mistakes (no redirectUrl, unknown provider) with
standard errors; the pages a person sees after that answer failures with an HTML page.
With no provider configured, every route here answers 404 M_UNRECOGNIZED.
"""

from urllib.parse import quote, urlencode

from flask import Blueprint, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from .. import errors
from ..services.accounts import uia, uia_stages
from ..services.sso import attempts, flow, uia_stage
from ..services.sso import login as sso_login
from ..services.sso.errors import SsoError
from ..services.sso.redirects import check_redirect_url
from ..services.sso.settings import CALLBACK_PATH, NEW_USER_PATH, Page, Redirect, SsoSettings
from .fallback import describe_action as describe_uia_action
from .http import CLIENT_PREFIX, client_ip, config, private_page, rate_limit

bp = Blueprint("sso", __name__)


def _settings() -> SsoSettings:
    settings = SsoSettings.from_config(config())
    if not settings.providers:
        raise errors.Unrecognized("Single sign-on is not enabled on this server")
    return settings


# Pages carrying codes and login tokens: never framed, cached, or sent on as a Referer (the
# headers of the auth fallback pages).
bp.after_request(private_page)


@bp.errorhandler(SsoError)
def _sso_error(exc: SsoError):
    return render_template("sso_error.html", message=exc.message,
                           server_name=config().server_name), exc.status


def _answer(outcome: Redirect | Page) -> ResponseReturnValue:
    if isinstance(outcome, Redirect):
        return redirect(outcome.url, 302)
    return render_template(outcome.template, **outcome.context), outcome.status


def _browser_cookie(response, browser: str, settings: SsoSettings):
    """The browser's secret binding its attempts (services/sso/attempts.py)."""
    response.set_cookie(attempts.COOKIE_NAME, browser, max_age=settings.session_lifetime_ms // 1000,
                        path="/", secure=settings.base_url.startswith("https:"), httponly=True,
                        samesite="Lax")
    return response


def _new_attempt_allowed() -> str:
    """Each attempt is a row until it expires: one address starts them at the pace of logins."""
    rate_limit("sso_attempt", client_ip(), "login_per_ip")
    return attempts.browser_secret(request.cookies.get(attempts.COOKIE_NAME))[0]


@bp.get(CLIENT_PREFIX + "/v3/login/sso/redirect")
@bp.get(CLIENT_PREFIX + "/v3/login/sso/redirect/<idp_id>")
def sso_redirect(idp_id=None):
    settings = _settings()
    client_url = check_redirect_url(request.args.get("redirectUrl"))
    if idp_id is None and len(settings.providers) > 1:
        return render_template("sso_pick_idp.html", server_name=settings.server_name, providers=[
            {"name": p.display_name, "url": _redirect_path(p.idp_id, client_url)}
            for p in settings.providers])
    provider = settings.provider(idp_id)
    browser = _new_attempt_allowed()
    response = redirect(flow.start(settings, provider, client_url, browser), 302)
    return _browser_cookie(response, browser, settings)


@bp.route(CLIENT_PREFIX + "/v3/auth/m.login.sso/fallback/web", methods=["GET", "POST"])
def uia_fallback():
    """The m.login.sso stage's fallback page (this static route wins over api/fallback.py's)."""
    settings = _settings()
    session = request.values.get("session")
    if not session:
        raise errors.MissingParam("Missing parameter: session")
    state = uia.fallback_state(session, uia_stages.SSO)
    browser = _new_attempt_allowed()
    page = uia_stage.fallback_page(settings, state, browser, describe_uia_action(state))
    return _browser_cookie(make_response(_answer(page)), browser, settings)


def _redirect_path(idp_id: str, client_url: str) -> str:
    return (f"{CLIENT_PREFIX}/v3/login/sso/redirect/{quote(idp_id, safe='')}?"
            f"{urlencode({'redirectUrl': client_url})}")


@bp.get(CALLBACK_PATH)
def oidc_callback():
    settings = _settings()
    if request.method == "HEAD":
        # A link checker's HEAD must not spend the browser's single-use attempt.
        return "", 200
    return _answer(sso_login.callback(settings, request.args.to_dict(),
                                      request.cookies.get(attempts.COOKIE_NAME)))


@bp.post(NEW_USER_PATH)
def new_user():
    settings = _settings()
    return _answer(sso_login.submit_username(settings, request.form.to_dict(),
                                             request.cookies.get(attempts.COOKIE_NAME)))
