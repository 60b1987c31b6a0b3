"""Turn every failure into the spec's standard error response (registered on the app, so that
routing 404/405 and werkzeug's own 413 reach them too)."""

from __future__ import annotations

import logging

import peewee
from flask import Flask, jsonify
from marshmallow import ValidationError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

from .. import errors

logger = logging.getLogger("homeserver.errors")


def error_response(exc: errors.MatrixError):
    response = jsonify(exc.to_dict())
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _from_http_exception(exc: HTTPException) -> errors.MatrixError:
    code = exc.code or 500
    if code == 404:
        return errors.Unrecognized("Unrecognized request")
    if code == 405:
        return errors.Unrecognized("Method not allowed for this endpoint", status=405)
    if code == 413:
        return errors.TooLarge("Request body too large")
    if code == 415:
        return errors.NotJson("Content not JSON")
    if code == 429:
        return errors.LimitExceeded(1000)
    if code >= 500:
        return errors.InternalError()
    return errors.Unknown(exc.description or "Bad request", status=code)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.MatrixError)
    def _matrix_error(exc):
        if exc.status >= 500:
            logger.error("%s: %s", exc.errcode, exc.message)
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        response = error_response(_from_http_exception(exc))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(ValidationError)
    def _validation_error(exc):
        # Views normally go through api.http.load_body; this is the safety net.
        return error_response(errors.BadJson(f"Invalid request: {exc.messages}"))

    @app.errorhandler(peewee.DataError)
    def _data_error(exc):
        # A value the database refuses (too long for its column, out of range): input that no
        # check caught. The services check sizes where they know them; this is the safety net.
        logger.warning("database refused a value: %s", str(exc).strip().splitlines()[0])
        return error_response(errors.InvalidParam("A value is too long or out of range"))

    @app.errorhandler(MaxConnectionsExceeded)
    def _pool_exhausted(exc):
        # Every pooled connection stayed taken for the pool's whole wait (a burst of requests
        # on a loaded machine): the client may retry, as for a locked database.
        logger.warning("no free database connection: %s", exc)
        return error_response(errors.DatabaseBusy())

    @app.errorhandler(ValueError)
    def _value_error(exc):
        # psycopg2 refuses a string holding NUL before sending it (PostgreSQL text cannot hold
        # one; SQLite stores it): input no check caught, the same safety net as DataError.
        if "NUL (0x00)" in str(exc):
            logger.warning("database refused a value: %s", exc)
            return error_response(errors.InvalidParam("Strings may not contain NUL characters"))
        return _unexpected(exc)

    @app.errorhandler(peewee.OperationalError)
    def _database_error(exc):
        if "locked" in str(exc) or "busy" in str(exc):
            return error_response(errors.DatabaseBusy())
        logger.exception("database error")
        return error_response(errors.InternalError())

    @app.errorhandler(Exception)
    def _unexpected(exc):
        logger.exception("unhandled exception")
        return error_response(errors.InternalError())
