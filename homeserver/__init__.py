"""homeserver: a Matrix homeserver (Client-Server API) as a Flask application.

The application is built by ``homeserver.app.create_app`` (docs/architecture.md has the tree).
"""

__version__ = "0.1.0"
