"""User-interactive authentication (the spec's "User-Interactive Authentication API").

An endpoint offers ``flows`` (lists of stage types). The client's ``auth`` dict completes
one stage per request, in a flow's order; the progress lives in a ``UiaSession`` row so any
worker can continue it. Until a flow is complete the answer is 401 with the session body
(``flows``, ``params``, ``session``, ``completed``; plus ``errcode``/``error`` when a stage
attempt failed).

A session is bound to the request that started it: the same method and path, the same user
(the access token's, or none) and the same body: a later leg may leave out fields an earlier
leg sent (they are taken from the session) but not change them; secret fields (passwords) are
never stored, so the leg that completes the flow must carry them. The password stage proves
the session's own user (an access token is needed to start one), so nobody can authorise an
operation for somebody else by getting them to type their password.

Once the operation ran the session is spent, not deleted: a retry gets the result (the
endpoint decides how, from ``UiaPassed.replayed`` and ``outcome``) until the session expires.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import peewee

from ... import clock, db, errors
from ...models.users import UiaSession
from .. import client_secrets
from . import registration_tokens
from .uia_stages import EMAIL_IDENTITY, PASSWORD, REGISTRATION_TOKEN, STAGES, StageFailed

SESSION_LIFETIME_MS = 30 * 60 * 1000


@dataclass(frozen=True)
class UiaRequest:
    method: str
    path: str
    body: dict  # the request body without "auth"
    auth: dict | None
    requester: str | None  # the access token's user, if one was given
    server_name: str
    # The rule limiting failed password attempts per user and address (None: no limit).
    failure_rule: dict | None = None
    ip: str | None = None
    # The rule limiting password attempts per address, shared with login (None: no limit).
    ip_rule: dict | None = None


@dataclass(frozen=True)
class UiaPassed:
    """A completed flow: run the operation with ``body``, then ``finish`` the session."""

    session_id: str
    body: dict
    user_id: str | None
    stage_results: dict = field(default_factory=dict)
    # A retry of a request whose operation already ran: answer from ``outcome``.
    replayed: bool = False
    outcome: dict = field(default_factory=dict)


class AuthRequired(errors.MatrixError):
    """The 401 of the UIA API: the session body, with errcode/error when an attempt failed."""

    errcode, status = "M_FORBIDDEN", 401
    default_message = "Additional authentication is required"

    def __init__(self, session_body: dict, failure: "StageFailed | None" = None):
        super().__init__(failure.message if failure else None)
        self.session_body = session_body
        self.failure = failure
        if failure is not None:
            self.errcode = failure.errcode

    def to_dict(self) -> dict:
        if self.failure is None:
            return dict(self.session_body)
        return {"errcode": self.errcode, "error": self.message, **self.session_body}


# --- sessions -----------------------------------------------------------------------------------

def _public_body(body: dict, secret_fields) -> dict:
    return {k: v for k, v in body.items() if k not in secret_fields}


def _body_digest(public: dict) -> str:
    text = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _session_body(session: UiaSession) -> dict:
    return {"flows": [{"stages": stages} for stages in json.loads(session.flows)],
            "params": json.loads(session.params),
            "session": session.session_id,
            # Always present, [] before any stage (Synapse sends it with every failed attempt;
            # SyTest and some clients read it unconditionally).
            "completed": json.loads(session.completed)}


def _release_reservations(rows) -> None:
    for row in rows:
        if row.spent_ts is not None:
            continue  # the registration spent its token's use
        token = json.loads(row.stage_results).get(REGISTRATION_TOKEN, {}).get("token")
        if token is not None:
            registration_tokens.release(token)


def delete_expired(now: int, limit: int | None = None) -> int:
    """Delete expired sessions (at most ``limit``), releasing the registration-token uses they
    held. Call in a write transaction. Returns how many went."""
    query = UiaSession.select().where(UiaSession.created_ts < now - SESSION_LIFETIME_MS)
    expired = list(query.order_by(UiaSession.created_ts).limit(limit) if limit else query)
    if expired:
        _release_reservations(expired)
        (UiaSession.delete()
         .where(UiaSession.session_id.in_([row.session_id for row in expired])).execute())
    return len(expired)


def _create(request: UiaRequest, flows: list[list[str]], params: dict,
            secret_fields) -> UiaSession:
    now = clock.now_ms()
    public = _public_body(request.body, secret_fields)
    session = UiaSession(
        session_id=client_secrets.generate("", 32),
        request_method=request.method,
        request_path=request.path,
        body_digest=_body_digest(public) if public else None,
        body=json.dumps(public) if public else None,
        secret_hashes="{}",
        user_id=request.requester,
        flows=json.dumps(flows),
        params=json.dumps(params),
        completed="[]",
        stage_results="{}",
        created_ts=now,
    )
    with db.write_transaction():
        delete_expired(now)
        session.save(force_insert=True)
    return session


def _load(session_id: str, *, for_update: bool = False) -> UiaSession | None:
    query = UiaSession.select().where(UiaSession.session_id == session_id)
    if for_update and not isinstance(db.database.obj, peewee.SqliteDatabase):
        query = query.for_update()
    session = query.first()
    if session is None or session.created_ts < clock.now_ms() - SESSION_LIFETIME_MS:
        return None
    return session


def _check_binding(session: UiaSession, request: UiaRequest, secret_fields) -> None:
    if session.request_method != request.method or session.request_path != request.path:
        raise errors.Forbidden("This authentication session belongs to a different request")
    if session.user_id != request.requester:
        raise errors.Forbidden("This authentication session belongs to another user")
    bound = json.loads(session.body) if session.body is not None else {}
    adding = bool(json.loads(session.completed))
    for key, value in _public_body(request.body, secret_fields).items():
        if (key in bound and bound[key] != value) or (key not in bound and adding):
            raise errors.Forbidden("The request changed during user-interactive "
                                   "authentication; start a new session")


def _bind_body(session: UiaSession, request: UiaRequest, secret_fields) -> None:
    """Add what this leg sent to the session's body (only new fields: see _check_binding)."""
    bound = json.loads(session.body) if session.body is not None else {}
    merged = {**_public_body(request.body, secret_fields), **bound}
    if merged == bound:
        return
    session.body_digest = _body_digest(merged)
    session.body = json.dumps(merged)
    with db.write_transaction():
        (UiaSession.update(body_digest=session.body_digest, body=session.body)
         .where(UiaSession.session_id == session.session_id).execute())


def _operation_body(session: UiaSession, request: UiaRequest) -> dict:
    """The body the operation runs with: the session's, then what this leg sent."""
    bound = json.loads(session.body) if session.body is not None else {}
    return {**bound, **request.body}


def _is_offered_next(flows: list[list[str]], completed: list[str], stage: str) -> bool:
    n = len(completed)
    return any(flow[:n] == completed and len(flow) > n and flow[n] == stage for flow in flows)


def _flow_complete(session: UiaSession) -> bool:
    completed = json.loads(session.completed)
    return any(completed[:len(flow)] == flow for flow in json.loads(session.flows))


def _attempt(session: UiaSession, stage: str, auth: dict, request: UiaRequest) -> None:
    """Try one stage; records it on success (updating ``session``), raises StageFailed."""
    completed = json.loads(session.completed)
    if stage in completed or session.spent_ts is not None:
        return  # completed stages are not retried; the flow's state answers
    if stage not in STAGES or not _is_offered_next(json.loads(session.flows), completed, stage):
        raise StageFailed(f"The stage {stage} is not the next stage of any offered flow")
    check, commit = STAGES[stage]
    prepared = check(session, auth, request)
    with db.write_transaction():
        fresh = _load(session.session_id, for_update=True)
        if fresh is None:
            raise StageFailed("The authentication session has expired")
        completed = json.loads(fresh.completed)
        if stage not in completed:
            result = commit(fresh, prepared)
            completed.append(stage)
            results = json.loads(fresh.stage_results)
            results[stage] = result
            fresh.completed = json.dumps(completed)
            fresh.stage_results = json.dumps(results)
            fresh.save()
    for name in ("completed", "stage_results"):
        setattr(session, name, getattr(fresh, name))


def authenticate(request: UiaRequest, flows: list[list[str]], *, params: dict | None = None,
                 secret_fields: tuple[str, ...] = ()) -> UiaPassed:
    """Advance the request's UIA session; UiaPassed once a flow is complete, else AuthRequired.

    ``secret_fields``: body keys (passwords) that are never stored.
    """
    auth = request.auth
    if auth is not None and not isinstance(auth, dict):
        raise errors.BadJson("auth must be an object")
    session_id = auth.get("session") if auth else None
    if session_id is not None and not isinstance(session_id, str):
        raise errors.BadJson("auth.session must be a string")
    stage = auth.get("type") if auth else None
    if stage is not None and not isinstance(stage, str):
        raise errors.BadJson("auth.type must be a string")

    failure = None
    session = _load(session_id) if session_id is not None else None
    if session is None:
        session = _create(request, flows, params or {}, secret_fields)
        if session_id is not None:
            failure = StageFailed("Unknown or expired authentication session; a new one starts")
    else:
        _check_binding(session, request, secret_fields)
        _bind_body(session, request, secret_fields)

    if stage is not None and failure is None:
        try:
            _attempt(session, stage, auth, request)
        except StageFailed as exc:
            failure = exc

    if failure is None and auth is not None and (
            session.spent_ts is not None or _flow_complete(session)):
        return UiaPassed(session_id=session.session_id, body=_operation_body(session, request),
                         user_id=session.user_id, stage_results=json.loads(session.stage_results),
                         replayed=session.spent_ts is not None,
                         outcome=json.loads(session.outcome or "{}"))
    raise AuthRequired(_session_body(session), failure)


class SessionSpent(errors.MatrixError):
    """Two requests completed the same session at once: the later one is refused."""

    errcode, status = "M_FORBIDDEN", 403
    default_message = "This authentication session was used by another request"


def finish(session_id: str, outcome: dict | None = None) -> None:
    """The operation succeeded: the session is spent (a retry gets ``outcome``, no secrets).

    Call inside the operation's transaction; raises SessionSpent (rolling it back) when a
    concurrent request spent the session first.
    """
    spent = (UiaSession.update(spent_ts=clock.now_ms(), outcome=json.dumps(outcome or {}))
             .where((UiaSession.session_id == session_id) & UiaSession.spent_ts.is_null())
             .execute())
    if not spent:
        raise SessionSpent()


def complete(passed: UiaPassed, operation):
    """Run the operation the session authorised and spend the session, in one transaction.

    A retry of a spent session runs the operation again: for operations that are the same
    when repeated (deleting devices, uploading the same keys, a new login token).
    """
    with db.write_transaction():
        if not passed.replayed:
            finish(passed.session_id)  # first: a concurrent completion waits, then is refused
        return operation()


# --- the fallback web page ----------------------------------------------------------------------

def complete_in_browser(session_id: str, stage: str, user_id: str) -> None:
    """A stage the browser completed elsewhere (SSO: the provider proved ``user_id``); refused
    unless the session is for that user and offers the stage next."""
    with db.write_transaction():
        session = _load(session_id, for_update=True)
        if session is None or session.spent_ts is not None:
            raise StageFailed("The authentication session has expired")
        if session.user_id is None or session.user_id != user_id:
            raise StageFailed("You signed in as another user than the one this is for")
        completed = json.loads(session.completed)
        if stage in completed:
            return
        if not _is_offered_next(json.loads(session.flows), completed, stage):
            raise StageFailed(f"The stage {stage} is not the next stage of any offered flow")
        results = json.loads(session.stage_results)
        results[stage] = {}
        session.completed = json.dumps(completed + [stage])
        session.stage_results = json.dumps(results)
        session.save()


def fallback_state(session_id: str, stage: str) -> dict:
    """What the fallback page for ``stage`` of a session shows (standard errors otherwise)."""
    # The email stage has none: the mail's link is its page.
    if stage not in STAGES or stage == EMAIL_IDENTITY:
        raise errors.Unrecognized(f"This server has no fallback page for {stage}")
    session = _load(session_id)
    if session is None:
        raise errors.NotFound("Unknown or expired authentication session")
    flows = json.loads(session.flows)
    if not any(stage in flow for flow in flows):
        raise errors.InvalidParam(f"This session does not offer the stage {stage}")
    done = stage in json.loads(session.completed) or session.spent_ts is not None
    return {"session": session.session_id, "stage": stage, "done": done,
            "user_id": session.user_id, "method": session.request_method,
            "path": session.request_path}


def submit_fallback(session_id: str, stage: str, fields: dict, *, server_name: str,
                    ip: str | None = None, failure_rule: dict | None = None,
                    ip_rule: dict | None = None) -> None:
    """Complete ``stage`` from the fallback page's form; raises StageFailed for a bad attempt.

    The password page asks only for the password of the session's own user.
    """
    state = fallback_state(session_id, stage)
    if state["done"]:
        return
    session = _load(session_id)
    auth: dict = {"type": stage, "session": session_id}
    if stage == PASSWORD:
        auth["password"] = fields.get("password")
    elif stage == REGISTRATION_TOKEN:
        auth["token"] = fields.get("token")
    request = UiaRequest(method=session.request_method, path=session.request_path, body={},
                         auth=auth, requester=session.user_id, server_name=server_name,
                         failure_rule=failure_rule, ip=ip, ip_rule=ip_rule)
    _attempt(session, stage, auth, request)
