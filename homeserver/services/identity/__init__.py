"""Identity servers (spec: Client-Server API "Adding Account Administrative Contact
Information" and "Third-party invites"; the Identity Service API as a client): ``client``
(the HTTP calls, under the outgoing address policy), ``bindings`` (3PIDs bound through this
server, and their unbinding). Inviting by email address and the exchange of a third-party
invite for a membership are room writes: ``writing/third_party_invites``."""
