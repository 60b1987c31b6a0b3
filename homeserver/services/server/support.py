"""GET /.well-known/matrix/support (spec: "Well-known URIs"): whom to contact about this
server, from the ``support`` configuration section."""

from __future__ import annotations

from ... import errors


def support_info(section: dict) -> dict:
    """The support document; 404 M_NOT_FOUND when nothing is configured (the spec's answer
    for "no server support information available")."""
    contacts = [{key: value for key, value in contact.items() if value is not None}
                for contact in section.get("contacts") or []]
    body: dict = {}
    if contacts:
        body["contacts"] = contacts
    if section.get("support_page"):
        body["support_page"] = section["support_page"]
    if not body:
        raise errors.NotFound("No support information is configured for this server")
    return body
