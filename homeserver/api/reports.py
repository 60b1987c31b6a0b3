"""Reporting content: POST /v3/rooms/{roomId}/report/{eventId}, /v3/rooms/{roomId}/report,
/v3/users/{userId}/report."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.reports import EventReportBody, ReportBody
from ..services.accounts import reports
from .http import CLIENT_PREFIX, load_body, rate_rule, require_auth

bp = Blueprint("reports", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.post("/rooms/<room_id>/report/<event_id>")
def report_event(room_id: str, event_id: str):
    requester = require_auth()
    body = load_body(EventReportBody)
    reports.report_event(requester, room_id, event_id, body.get("reason"),
                         rate_rule=rate_rule("messages_per_user"))
    return jsonify({})


@bp.post("/rooms/<room_id>/report")
def report_room(room_id: str):
    requester = require_auth()
    body = load_body(ReportBody, missing_errcode=errors.MissingParam)
    reports.report_room(requester, room_id, body["reason"],
                        rate_rule=rate_rule("messages_per_user"))
    return jsonify({})


@bp.post("/users/<path:user_id>/report")
def report_user(user_id: str):
    requester = require_auth()
    body = load_body(ReportBody, missing_errcode=errors.MissingParam)
    reports.report_user(requester, user_id, body["reason"],
                        rate_rule=rate_rule("messages_per_user"))
    return jsonify({})
