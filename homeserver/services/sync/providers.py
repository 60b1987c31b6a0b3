"""The /sync providers, in the order they run (the package docstring says what one is)."""

from . import account_data, device_lists, ephemeral, presence, rooms, to_device, unread

# One line per stream.
PROVIDERS = (
    rooms,
    to_device,
    device_lists,
    account_data,
    ephemeral,
    presence,
    unread,  # after every provider that adds rooms
)
