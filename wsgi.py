"""gunicorn's entry point: ``gunicorn wsgi:app`` (configuration from HOMESERVER_CONFIG)."""

from homeserver.app import create_app

app = create_app()
