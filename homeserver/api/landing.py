"""The landing page at / for people who open the server's address in a browser."""

from flask import Blueprint, render_template

from .. import __version__
from .http import config

bp = Blueprint("landing", __name__)


@bp.get("/")
def index():
    cfg = config()
    return render_template("index.html", server_name=cfg.server_name, version=__version__,
                           base_url=cfg.base_url)
