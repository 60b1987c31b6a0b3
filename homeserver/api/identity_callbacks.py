"""/_matrix/federation/v1/3pid/onbind: an identity server tells this server that one of its
users bound a third-party identifier, with the room invites waiting for it (spec: Server-
Server API, onBindThirdPartyIdentifier; services/writing/third_party_invites.py).

Unauthenticated, as in the spec: each invite is only as good as its ``signed`` block, which
must verify with a public key of the room's m.room.third_party_invite event. The spec says
PUT; identity servers (Sydent, SyTest's) send POST, as Synapse serves it.
"""

from flask import Blueprint, jsonify

from ..services.writing import third_party_invites as invites
from .http import json_body

bp = Blueprint("identity_callbacks", __name__, url_prefix="/_matrix/federation/v1")


@bp.route("/3pid/onbind", methods=["PUT", "POST"])
def on_bind():
    invites.on_bind(json_body())
    return jsonify({})
