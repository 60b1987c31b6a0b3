"""Application services (spec: Application Service API): registrations, the client-server
side (as_token requests, masquerading, namespaces) and delivery of transactions."""
