"""Strict marshmallow fields for Matrix JSON.

marshmallow's defaults accept "12" for an Integer, truncate 12.7 and take "yes" for a Boolean;
Matrix bodies are typed JSON, so these fields accept only the JSON type itself.
"""

from marshmallow import ValidationError, fields

from ..identifiers import is_ascii_number

# Canonical JSON's integer range (spec appendices: Canonical JSON).
MIN_SAFE_INT = -(2**53) + 1
MAX_SAFE_INT = 2**53 - 1


class StrictInteger(fields.Integer):
    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be an integer")
        if not MIN_SAFE_INT <= value <= MAX_SAFE_INT:
            raise ValidationError("is out of the allowed integer range")
        return value


class StrictBoolean(fields.Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be a boolean")
        return value


class StrictString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be a string")
        return value


class JsonObject(fields.Dict):
    """Any JSON object, passed through as is."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("must be a JSON object")
        return value


class JsonValue(fields.Raw):
    """Any JSON value (null included), passed through as is; the service decides its shape."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)


class QueryInteger(fields.Integer):
    """An integer from a query string ("10"), decimal digits only."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and is_ascii_number(value.removeprefix("-"), 17):
            number = int(value)
            if MIN_SAFE_INT <= number <= MAX_SAFE_INT:
                return number
        raise ValidationError("must be an integer")


class QueryBoolean(fields.Boolean):
    """A boolean from a query string: exactly "true" or "false"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValidationError('must be "true" or "false"')
