"""Bodies of the endpoints application services call."""

from . import BodySchema
from .fields import StrictString


class PingBody(BodySchema):
    # Passed on to the service's POST /_matrix/app/v1/ping.
    transaction_id = StrictString(load_default=None)
