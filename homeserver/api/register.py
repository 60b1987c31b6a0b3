"""Registration: POST /register (with user-interactive auth), username availability, token
validity, and the email validation that registration may use (when mail is configured)."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.auth import (AppServiceRegisterBody, EmailRequestTokenBody, GuestRegisterBody,
                            MsisdnRequestTokenBody, RegisterArgs, RegisterBody, TokenArgs,
                            UsernameArgs)
from ..services.accounts import registration, registration_tokens, threepid_sessions
from ..services.appservice import accounts as appservice_accounts
from .email_tokens import request_email_token
from .http import (CLIENT_PREFIX, client_ip, config, json_body, load_args, load_body,
                   rate_limit, require_app_service)
from .uia import interactive

bp = Blueprint("register", __name__, url_prefix=CLIENT_PREFIX)


@bp.post("/v3/register")
def register():
    cfg = config()
    args = load_args(RegisterArgs)
    if args["kind"] == "guest":
        return register_guest()
    raw = json_body(allow_empty=True)
    if raw.get("type") == appservice_accounts.LOGIN_TYPE:
        return jsonify(appservice_accounts.register(
            cfg.app_services, require_app_service(), load_body(AppServiceRegisterBody, raw),
            server_name=cfg.server_name, token_lifetime_ms=cfg.access_token_lifetime_ms,
            ip=client_ip()))
    if not cfg.registration["enabled"]:
        raise errors.Forbidden("Registration is disabled on this server")
    rate_limit("register_ip", client_ip(), "register_per_ip")
    body, passed = interactive(
        RegisterBody, registration.flows(cfg.registration["require_token"],
                                           email=cfg.email is not None,
                                           require_email=cfg.registration["require_email"]),
        requester=None,
        secret_fields=("password", "guest_access_token"),
        precheck=lambda checked: registration.precheck(checked, cfg.server_name,
                                                       cfg.app_services))
    return jsonify(registration.register(body, passed, server_name=cfg.server_name,
                                         token_lifetime_ms=cfg.access_token_lifetime_ms,
                                         registry=cfg.app_services, ip=client_ip(),
                                         email_pusher=cfg.email is not None
                                         and cfg.email["enable_notifs"]
                                         and cfg.email["notif_for_new_users"]))


def register_guest():
    """POST /register?kind=guest (spec: Guest Access), when ``registration.allow_guests``."""
    cfg = config()
    if not cfg.registration["allow_guests"]:
        raise errors.GuestAccessForbidden("Guest access is disabled on this server")
    rate_limit("guest_register_ip", client_ip(), "guest_register_per_ip")
    body = load_body(GuestRegisterBody, json_body(allow_empty=True))
    return jsonify(registration.register_guest(body, server_name=cfg.server_name,
                                               token_lifetime_ms=cfg.access_token_lifetime_ms,
                                               idle_expiry_ms=cfg.registration[
                                                   "guest_idle_expiry_ms"],
                                               ip=client_ip()))


@bp.get("/v3/register/available")
def available():
    args = load_args(UsernameArgs)
    return jsonify(registration.username_available(args["username"], config().server_name,
                                                   config().app_services))


@bp.get("/v1/register/m.login.registration_token/validity")
def token_validity():
    args = load_args(TokenArgs)
    if not config().registration["enabled"]:
        raise errors.Forbidden("Registration is disabled on this server")
    # The spec asks for a rate limit here against guessing tokens.
    rate_limit("register_ip", client_ip(), "register_per_ip")
    return jsonify({"valid": registration_tokens.is_valid(args["token"])})


@bp.post("/v3/register/email/requestToken")
def register_email_request_token():
    if not config().registration["enabled"]:
        load_body(EmailRequestTokenBody)
        raise errors.ThreepidDenied("Registration is disabled on this server")
    return request_email_token(threepid_sessions.REGISTER, errors.ThreepidDenied(
        "This server does not register accounts with email addresses"))


@bp.post("/v3/register/msisdn/requestToken")
def register_msisdn_request_token():
    load_body(MsisdnRequestTokenBody)
    raise errors.ThreepidDenied("This server does not register accounts with phone numbers")
