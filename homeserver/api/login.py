"""Sessions: login flows, POST /login, login tokens, refresh, logout, whoami."""

from flask import Blueprint, jsonify

from ..schemas.auth import EmptyBody, LoginBody, RefreshBody
from ..services.accounts import login as login_service
from ..services.accounts import uia
from ..services.appservice import accounts as appservice_accounts
from ..services.sso import providers as sso_providers
from .http import (CLIENT_PREFIX, access_token_from_request, client_ip, config, load_body,
                   rate_rule, require_auth)
from .uia import interactive, require_auth_even_if_locked

bp = Blueprint("login", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v3/login")
def login_flows():
    return jsonify(login_service.flows(sso_providers.public_descriptions(config().oidc_providers),
                                       with_app_services=bool(config().app_services)))


@bp.post("/v3/login")
def login():
    cfg = config()
    body = load_body(LoginBody)
    if body["type"] == appservice_accounts.LOGIN_TYPE:
        # The spec answers a missing or wrong token here with M_FORBIDDEN.
        service = cfg.app_services.by_token(access_token_from_request() or "")
        return jsonify(appservice_accounts.login(
            cfg.app_services, service, body, server_name=cfg.server_name,
            token_lifetime_ms=cfg.access_token_lifetime_ms, ip=client_ip()))
    limits = login_service.LoginLimits(per_ip=rate_rule("login_per_ip"),
                                       per_user=rate_rule("login_per_user"),
                                       failures_per_user=rate_rule("login_failures_per_user"))
    return jsonify(login_service.login(body, server_name=cfg.server_name, ip=client_ip(),
                                       limits=limits,
                                       token_lifetime_ms=cfg.access_token_lifetime_ms))


@bp.post("/v1/login/get_token")
def get_login_token():
    requester = require_auth()
    _, passed = interactive(EmptyBody, [[uia.PASSWORD]], requester=requester.user_id)
    return jsonify(login_service.issue_login_token(passed, per_user=rate_rule("login_per_user")))


@bp.post("/v3/refresh")
def refresh():
    body = load_body(RefreshBody)
    return jsonify(login_service.refresh(body["refresh_token"],
                                         token_lifetime_ms=config().access_token_lifetime_ms))


@bp.post("/v3/logout")
def logout():
    requester = require_auth_even_if_locked()
    login_service.logout(requester.user_id, requester.device_id)
    return jsonify({})


@bp.post("/v3/logout/all")
def logout_all():
    requester = require_auth_even_if_locked()
    login_service.logout_all(requester.user_id)
    return jsonify({})


@bp.get("/v3/account/whoami")
def whoami():
    requester = require_auth()
    answer = {"user_id": requester.user_id, "is_guest": requester.is_guest}
    if requester.device_id:  # an application service acting without a device has none
        answer["device_id"] = requester.device_id
    return jsonify(answer)
