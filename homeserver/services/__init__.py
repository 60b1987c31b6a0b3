"""The homeserver itself. Services never import Flask: they take and return plain values.

One package per domain (``rooms``, ``reading``, ``sync``, ``accounts``, ``push``, ``e2ee``,
``ephemeral``, ``streams``, ``users``, ``server``, ``media``, ``sso``), each saying what it owns; the few
modules at this level are used across domains. docs/architecture.md draws the tree.
"""
