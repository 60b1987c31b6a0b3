"""Account management: password change (and reset by email), deactivation, and third-party
identifiers (email addresses, when this server sends mail: the ``email`` configuration;
without it the list is empty and changes answer the spec's refusals), and their binding at
identity servers (services/identity/bindings.py)."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.auth import (Add3pidBody, ChangePasswordBody, DeactivateBody, Delete3pidBody,
                            MsisdnRequestTokenBody, Post3pidBody, ThreepidCredentials)
from ..services.accounts import after_uia, threepid_binding, threepid_sessions, uia
from ..services.appservice import accounts as appservice_accounts
from ..services.userdata import threepids
from .email_tokens import request_email_token
from .http import (CLIENT_PREFIX, config, json_body, load_body, optional_auth, rate_rule,
                   require_auth)
from .media import media_store
from .uia import interactive

bp = Blueprint("account", __name__, url_prefix=CLIENT_PREFIX)


# With an access token: the password stage. Without one, the only legitimate proof is an
# email the account holds (m.login.email.identity), offered only when mail is configured; the
# password stage must never be that proof (anyone could start the request and get the owner
# to type their password; docs/security.md).

@bp.post("/v3/account/password")
def change_password():
    requester = optional_auth()
    if requester is None and config().email is None:
        raise errors.MissingToken()
    flows = [[uia.PASSWORD]] if requester is not None else [[uia.EMAIL_IDENTITY]]
    body, passed = interactive(ChangePasswordBody, flows,
                               requester=requester.user_id if requester else None,
                               secret_fields=("new_password",))
    after_uia.change_password_after_uia(
        passed, body, requester_device=requester.device_id if requester else None)
    return jsonify({})


@bp.post("/v3/account/deactivate")
def deactivate():
    requester = require_auth()
    if requester.app_service is not None:
        body = load_body(DeactivateBody, json_body(allow_empty=True))
        return jsonify(appservice_accounts.deactivate(
            requester.user_id, erase=body["erase"], media_store=media_store()))
    body, passed = interactive(DeactivateBody, [[uia.PASSWORD]], requester=requester.user_id)
    return jsonify(after_uia.deactivate_after_uia(passed, erase=body["erase"],
                                                  id_server=body["id_server"],
                                                  media_store=media_store()))


@bp.get("/v3/account/3pid")
def list_threepids():
    requester = require_auth()
    return jsonify({"threepids": threepids.list_for(requester.user_id)})


@bp.post("/v3/account/3pid")
def add_threepid_deprecated():
    """Deprecated; as Synapse, adds an address this server validated (no identity server is
    asked: the session is this server's own)."""
    requester = require_auth()
    body = load_body(Post3pidBody)
    if config().email is None:
        raise errors.ThreepidAuthFailed(
            "This server does not verify third-party identifiers with identity servers",
            status=403)
    proven = threepid_sessions.validated(body["three_pid_creds"])
    threepids.add_validated(requester.user_id, proven)
    return jsonify({})


@bp.post("/v3/account/3pid/add")
def add_threepid():
    requester = require_auth()
    if config().email is None:
        load_body(Add3pidBody)
        # Validation sessions are only made when this server sends mail.
        raise errors.ThreepidAuthFailed("No validated third-party identifier matches this "
                                        "session")
    body, passed = interactive(Add3pidBody, [[uia.PASSWORD]], requester=requester.user_id)
    proven = threepid_sessions.validated(body)
    uia.complete(passed, lambda: threepids.add_validated(requester.user_id, proven))
    return jsonify({})


@bp.post("/v3/account/3pid/delete")
def delete_threepid():
    """Unbound from the identity server, then off the account; as Synapse, an address not on
    the account is no error (it may have been only bound)."""
    requester = require_auth()
    body = load_body(Delete3pidBody)
    result = threepids.delete_and_unbind(requester.user_id, body["medium"], body["address"],
                                         body["id_server"])
    return jsonify({"id_server_unbind_result": result})


# The unstable paths: what Synapse still serves and SyTest calls.
@bp.post("/v3/account/3pid/bind")
@bp.post("/unstable/account/3pid/bind")
def bind_threepid():
    requester = require_auth()
    body = load_body(ThreepidCredentials)
    threepid_binding.bind(requester, body["id_server"], body["id_access_token"], body["sid"],
                  body["client_secret"], rate_rule=rate_rule("messages_per_user"))
    return jsonify({})


@bp.post("/v3/account/3pid/unbind")
@bp.post("/unstable/account/3pid/unbind")
def unbind_threepid():
    requester = require_auth()
    body = load_body(Delete3pidBody)
    return jsonify({"id_server_unbind_result": threepid_binding.unbind(
        requester, body["medium"], body["address"], body["id_server"],
        rate_rule=rate_rule("messages_per_user"))})


@bp.post("/v3/account/3pid/email/requestToken")
def threepid_email_request_token():
    return request_email_token(threepid_sessions.ADD, errors.ThreepidMediumNotSupported(
        "This server does not add email addresses to accounts"))


@bp.post("/v3/account/3pid/msisdn/requestToken")
def threepid_msisdn_request_token():
    load_body(MsisdnRequestTokenBody)
    raise errors.ThreepidMediumNotSupported("This server does not add phone numbers to accounts")


@bp.post("/v3/account/password/email/requestToken")
def password_email_request_token():
    return request_email_token(threepid_sessions.PASSWORD, errors.ThreepidDenied(
        "This server does not reset passwords by email"))


@bp.post("/v3/account/password/msisdn/requestToken")
def password_msisdn_request_token():
    load_body(MsisdnRequestTokenBody)
    raise errors.ThreepidDenied("This server does not reset passwords by phone")
