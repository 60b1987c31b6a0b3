"""Request bodies of the user data endpoints (profiles, user directory)."""

from marshmallow import validate

from . import BodySchema
from .fields import StrictInteger, StrictString


class UserDirectorySearchSchema(BodySchema):
    search_term = StrictString(required=True)
    limit = StrictInteger(load_default=10, validate=validate.Range(min=0))
