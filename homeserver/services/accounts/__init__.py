"""Accounts and who a request is: registration (and its tokens), login, access
tokens, passwords, user-interactive auth, devices, deactivation (idle guests' too) and erasure,
OpenID tokens, suspension, server administration (``admin``; ``admin_users``: accounts as
Synapse's admin API shows and changes them) and content reports.
"""
