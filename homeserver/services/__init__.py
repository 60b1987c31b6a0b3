"""The homeserver itself. Services never import Flask: they take and return plain values."""
