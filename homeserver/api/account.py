"""Account management: password change, deactivation, and third-party identifiers (which this
server does not keep: the list is empty and changes answer the spec's refusals)."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.auth import (Add3pidBody, ChangePasswordBody, DeactivateBody, Delete3pidBody,
                            EmailRequestTokenBody, MsisdnRequestTokenBody, Post3pidBody)
from ..services.accounts import after_uia, uia
from .http import CLIENT_PREFIX, load_body, require_auth
from .media import media_store
from .uia import interactive

bp = Blueprint("account", __name__, url_prefix=CLIENT_PREFIX)


# Both need an access token: without one the only safe proof of ownership would be an email
# reset, which this server does not offer (the password stage must not be it: anyone could
# start the request and get the owner to type their password; docs/security.md).

@bp.post("/v3/account/password")
def change_password():
    requester = require_auth()
    body, passed = interactive(ChangePasswordBody(), [[uia.PASSWORD]],
                               requester=requester.user_id, secret_fields=("new_password",))
    after_uia.change_password_after_uia(passed, body, requester_device=requester.device_id)
    return jsonify({})


@bp.post("/v3/account/deactivate")
def deactivate():
    requester = require_auth()
    body, passed = interactive(DeactivateBody(), [[uia.PASSWORD]], requester=requester.user_id)
    return jsonify(after_uia.deactivate_after_uia(passed, erase=body["erase"],
                                                  media_store=media_store()))


@bp.get("/v3/account/3pid")
def list_threepids():
    require_auth()
    return jsonify({"threepids": []})


@bp.post("/v3/account/3pid")
def add_threepid_deprecated():
    require_auth()
    load_body(Post3pidBody())
    raise errors.ThreepidAuthFailed(
        "This server does not verify third-party identifiers with identity servers",
        status=403)


@bp.post("/v3/account/3pid/add")
def add_threepid():
    require_auth()
    load_body(Add3pidBody())
    # Validation sessions are only made by this server's requestToken endpoints, which
    # refuse every medium, so no sid can name a validated identifier.
    raise errors.ThreepidAuthFailed("No validated third-party identifier matches this session")


@bp.post("/v3/account/3pid/delete")
def delete_threepid():
    require_auth()
    load_body(Delete3pidBody())
    raise errors.ThreepidNotFound("This third-party identifier is not on your account")


@bp.post("/v3/account/3pid/email/requestToken")
def threepid_email_request_token():
    load_body(EmailRequestTokenBody())
    raise errors.ThreepidMediumNotSupported("This server does not add email addresses to accounts")


@bp.post("/v3/account/3pid/msisdn/requestToken")
def threepid_msisdn_request_token():
    load_body(MsisdnRequestTokenBody())
    raise errors.ThreepidMediumNotSupported("This server does not add phone numbers to accounts")


@bp.post("/v3/account/password/email/requestToken")
def password_email_request_token():
    load_body(EmailRequestTokenBody())
    raise errors.ThreepidDenied("This server does not reset passwords by email")


@bp.post("/v3/account/password/msisdn/requestToken")
def password_msisdn_request_token():
    load_body(MsisdnRequestTokenBody())
    raise errors.ThreepidDenied("This server does not reset passwords by phone")
