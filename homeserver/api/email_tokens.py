"""HTTP glue of the three POST .../email/requestToken endpoints (account, register, password):
one parser and one service call, each endpoint keeping the spec's refusal for when this server
sends no mail (no ``email`` configuration). (No blueprint here.)"""

from __future__ import annotations

from flask import jsonify

from .. import errors
from ..schemas.auth import EmailRequestTokenBody
from ..services.accounts import threepid_sessions
from .http import client_ip, config, load_body, rate_rule


def request_email_token(purpose: str, refusal: errors.MatrixError):
    """Answer a requestToken call for ``purpose`` (threepid_sessions.REGISTER/ADD/PASSWORD);
    ``refusal`` when mail is not configured."""
    body = load_body(EmailRequestTokenBody)
    cfg = config()
    if cfg.email is None:
        raise refusal
    request = threepid_sessions.TokenRequest(
        purpose=purpose, client_secret=body["client_secret"], email=body["email"],
        send_attempt=body["send_attempt"], next_link=body["next_link"], ip=client_ip())
    rules = {"per_ip": rate_rule("email_request_per_ip"),
             "per_address": rate_rule("email_request_per_address")}
    return jsonify(threepid_sessions.request_token(request, settings=cfg.email,
                                                   base_url=cfg.base_url, rules=rules))
