"""An identity server run by the tests on 127.0.0.1 over plain HTTP (Identity Service API v2,
the parts a homeserver calls), behaving like SyTest's mock (lib/SyTest/Identity/Server.pm):
3PID sessions validated by the test, bind and unbind, lookup with sha256 and ``none``,
store-invite, pubkey validity, and the signed /3pid/onbind body a binding produces."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from homeserver.services import canonical
from helpers.local_http import LocalHTTPServer

ACCESS_TOKEN = "swordfish"
PEPPER = "matrixrocks"
PREFIX = "/_matrix/identity/v2"


class IdentityServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.bindings: dict[tuple[str, str], str] = {}
        self.sessions: dict[str, tuple[str, str]] = {}
        self.invites: dict[tuple[str, str], list[dict]] = {}
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.refuse_unbind = False
        self._next = 0
        self.rotate_keys()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                outer.requests.append((method, parts.path, body, self.headers.get("Authorization")))
                status, answer = outer.answer(method, parts.path, query, body,
                                              self.headers.get("Authorization"))
                self._answer(status, answer)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = LocalHTTPServer((host, 0), Handler)
        self.name = f"{host}:{self.server.server_port}"
        self.base_url = f"http://{self.name}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # --- keys and signatures ------------------------------------------------------------------

    def rotate_keys(self):
        self._key = ECC.generate(curve="ed25519")
        self.public_key = canonical.unpadded_base64(self._key.public_key().export_key(format="raw"))

    def sign(self, obj: dict) -> dict:
        signable = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        signature = eddsa.new(self._key, "rfc8032").sign(canonical.encode(signable))
        obj.setdefault("signatures", {})[self.name] = {
            "ed25519:0": canonical.unpadded_base64(signature)}
        return obj

    # --- what a test does at the identity server ----------------------------------------------

    def validate(self, medium: str, address: str) -> str:
        """A validated session for the address (as if its owner clicked the mailed link)."""
        self._next += 1
        sid = f"session_{self._next}"
        self.sessions[sid] = (medium, address)
        return sid

    def bind_identity(self, medium: str, address: str, mxid: str) -> dict:
        """Bind out of band; the /3pid/onbind body the homeserver is to get (signed invites)."""
        self.bindings[(medium, address)] = mxid
        body = {"medium": medium, "address": address, "mxid": mxid, "invites": []}
        for invite in self.invites.get((medium, address), []):
            body["invites"].append({**invite, "mxid": mxid, "signed": self.sign(
                {"mxid": mxid, "token": invite["token"]})})
        return self.sign(body)

    # --- the API ------------------------------------------------------------------------------

    def answer(self, method, path, query, body, authorization):
        if path == PREFIX + "/pubkey/isvalid":
            return 200, {"valid": query.get("public_key") == self.public_key}
        if path == PREFIX + "/3pid/unbind":
            key = (body["threepid"]["medium"], body["threepid"]["address"])
            if self.refuse_unbind:
                return 403, {"errcode": "M_FORBIDDEN", "error": "Unsigned request"}
            if self.bindings.get(key) != body["mxid"]:
                return 404, {"errcode": "M_NOT_FOUND", "error": "No such binding"}
            del self.bindings[key]
            return 200, {}
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown access token"}
        if path == PREFIX + "/hash_details":
            return 200, {"algorithms": ["none", "sha256"], "lookup_pepper": PEPPER}
        if path == PREFIX + "/lookup":
            return 200, {"mappings": self._lookup(body)}
        if path == PREFIX + "/3pid/bind":
            if body.get("sid") not in self.sessions:
                return 400, {"errcode": "M_NO_VALID_SESSION", "error": "No valid session"}
            medium, address = self.sessions[body["sid"]]
            self.bindings[(medium, address)] = body["mxid"]
            return 200, self.sign({"medium": medium, "address": address, "mxid": body["mxid"],
                                   "not_before": 0, "not_after": 4582425849161, "ts": 0})
        if path == PREFIX + "/store-invite":
            self._next += 1
            invite = {key: body.get(key) for key in ("medium", "address", "room_id", "sender")}
            invite["token"] = f"token{self._next}"
            self.invites.setdefault((body["medium"], body["address"]), []).append(invite)
            url = f"{self.base_url}{PREFIX}/pubkey/isvalid"
            return 200, {"token": invite["token"], "display_name": "Bob",
                         "public_keys": [{"public_key": self.public_key,
                                          "key_validity_url": url}]}
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}

    def _lookup(self, body) -> dict:
        found = {}
        for key in body["addresses"]:
            for (medium, address), mxid in self.bindings.items():
                plain = f"{address} {medium}"
                hashed = canonical.urlsafe_unpadded_base64(hashlib.sha256(
                    f"{plain} {PEPPER}".encode()).digest())
                if key in (plain, hashed) and (body["algorithm"] == "none") == (key == plain):
                    found[key] = mxid
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()
