"""HTTP only: one Flask blueprint per API area. Views authenticate, parse, call one service
function and serialize; the logic lives in ``homeserver.services``.

Every module here that defines a module-level ``bp`` Blueprint is registered by ``register_blueprints``
(so a new API area is one new module, not an edit to a shared list).
"""

import importlib
import pkgutil

from flask import Blueprint, Flask

from .r0_prefix import add_r0_aliases


def register_blueprints(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            app.register_blueprint(bp)
    # The r0 paths of the v3 endpoints, once every blueprint is in (r0_prefix.py).
    add_r0_aliases(app)
