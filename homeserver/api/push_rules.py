"""Push Rules API: GET /pushrules/, /pushrules/global/, /pushrules/global/{kind}/ (Synapse's),
and each rule with its enabled/actions."""

from flask import Blueprint, jsonify, request

from .. import errors
from ..schemas.push import ActionsBody, EnabledBody, RulePositionArgs
from ..services.push import rules as push_rules
from .http import CLIENT_PREFIX, json_body, load_args, load_body, require_auth

bp = Blueprint("push_rules", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/pushrules")

# Several clients fetch GET /_matrix/client/v3/pushrules/ with the trailing slash: serve both.
RULE = "/global/<kind>/<rule_id>"


@bp.get("/", strict_slashes=False)
def get_all():
    requester = require_auth()
    return jsonify(push_rules.account_data_content(requester.user_id))


@bp.get("/global/", strict_slashes=False)
def get_global():
    requester = require_auth()
    return jsonify(push_rules.ruleset(requester.user_id))


# Not in the spec: the rules of one kind, a JSON array (Synapse serves it; older clients and
# SyTest read it). Without the trailing slash it is a malformed path (below), as in Synapse:
# matched here only so that werkzeug does not redirect it to the slashed form.
@bp.get("/global/<kind>/", strict_slashes=False)
def get_kind(kind):
    if not request.path.endswith("/"):
        return malformed_path()
    requester = require_auth()
    return jsonify(push_rules.rules_of_kind(requester.user_id, kind))


@bp.get(RULE)
def get_rule(kind, rule_id):
    requester = require_auth()
    return jsonify(push_rules.get_rule(requester.user_id, kind, rule_id))


@bp.put(RULE)
def put_rule(kind, rule_id):
    requester = require_auth()
    args = load_args(RulePositionArgs)
    push_rules.put_rule(requester.user_id, kind, rule_id, json_body(),
                        before=args.get("before"), after=args.get("after"))
    return jsonify({})


@bp.delete(RULE)
def delete_rule(kind, rule_id):
    requester = require_auth()
    push_rules.delete_rule(requester.user_id, kind, rule_id)
    return jsonify({})


@bp.get(f"{RULE}/enabled")
def get_enabled(kind, rule_id):
    requester = require_auth()
    return jsonify(push_rules.get_enabled(requester.user_id, kind, rule_id))


@bp.put(f"{RULE}/enabled")
def set_enabled(kind, rule_id):
    requester = require_auth()
    body = load_body(EnabledBody)
    push_rules.set_enabled(requester.user_id, kind, rule_id, body["enabled"])
    return jsonify({})


@bp.get(f"{RULE}/actions")
def get_actions(kind, rule_id):
    requester = require_auth()
    return jsonify(push_rules.get_actions(requester.user_id, kind, rule_id))


@bp.put(f"{RULE}/actions")
def set_actions(kind, rule_id):
    requester = require_auth()
    body = load_body(ActionsBody)
    push_rules.set_actions(requester.user_id, kind, rule_id, body["actions"])
    return jsonify({})


# Any other path under /pushrules/ (no or unknown scope, missing kind or rule ID, unknown
# attribute) is a malformed push rule path: 400 M_UNRECOGNIZED, as Synapse answers. Paths
# outside /pushrules keep the usual 404 M_UNRECOGNIZED.
@bp.route("/", methods=["PUT", "DELETE"], strict_slashes=False)
@bp.route("/<path:rest>", methods=["GET", "PUT", "DELETE"])
def malformed_path(rest=""):
    require_auth()
    raise errors.Unrecognized("Unrecognized push rule path", status=400)
