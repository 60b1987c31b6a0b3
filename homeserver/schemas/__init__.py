"""marshmallow schemas for request bodies and query arguments.

Matrix clients send extra and unstable keys, so schemas default to EXCLUDE; strict field types
(no "12" for an integer, no "yes" for a boolean) live in ``fields.py``.
"""

from marshmallow import EXCLUDE, Schema


class BodySchema(Schema):
    """Base for request bodies: unknown keys are ignored, types are strict."""

    class Meta:
        unknown = EXCLUDE


class QuerySchema(Schema):
    """Base for query arguments (values arrive as strings; use the query fields)."""

    class Meta:
        unknown = EXCLUDE
