"""Request bodies of the account data and room tag endpoints."""

from marshmallow import INCLUDE, Schema, ValidationError, fields


class StrictNumber(fields.Field):
    """A JSON number (integer or float), not a boolean or a numeric string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        return value


class TagSchema(Schema):
    """PUT .../tags/{tag}: ``order`` orders rooms under the tag; other keys are kept as given."""

    class Meta:
        unknown = INCLUDE

    order = StrictNumber()
