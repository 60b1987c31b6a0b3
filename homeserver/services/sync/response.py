"""The /sync response being built: providers add to it, ``to_dict`` shapes it for the client."""

from __future__ import annotations

from ..reading import filters as filters_service

ROOM_SECTIONS = ("join", "invite", "knock", "leave")

# Keys of a joined or left room whose value is an {"events": [...]} batch.
_ROOM_BATCHES = {
    "join": ("state", "timeline", "ephemeral", "account_data"),
    "leave": ("state", "timeline", "account_data"),
}


class SyncResponse:
    """Collects what the providers found. ``has_updates`` tells a long-poll whether to return."""

    def __init__(self):
        self.rooms: dict[str, dict[str, dict]] = {section: {} for section in ROOM_SECTIONS}
        self.top: dict[str, object] = {}
        self._updated = False
        self._deferred: list = []

    # --- rooms --------------------------------------------------------------------------------

    def room(self, section: str, room_id: str) -> dict:
        """The entry of a room in ``rooms.<section>`` (created empty), to fill in place.

        Creating it counts as an update: an incremental sync lists only rooms with news.
        """
        self._updated = True
        return self.rooms[section].setdefault(room_id, {})

    def has_room(self, section: str, room_id: str) -> bool:
        return room_id in self.rooms[section]

    def add_room_events(self, section: str, room_id: str, key: str, events: list[dict]) -> None:
        """Append events to a room's batch, e.g. ("join", room, "ephemeral", [typing_event])."""
        if not events:
            return
        entry = self.room(section, room_id)
        entry.setdefault(key, {}).setdefault("events", []).extend(events)

    # --- top level ----------------------------------------------------------------------------

    def add_events(self, key: str, events: list[dict]) -> None:
        """Append to a top-level batch: "presence", "account_data", "to_device"."""
        if not events:
            return
        self._updated = True
        self.top.setdefault(key, {}).setdefault("events", []).extend(events)

    def set(self, key: str, value, *, is_update: bool = True) -> None:
        """Set a top-level field ("device_lists", "device_one_time_keys_count", ...).

        ``is_update=False`` for fields sent every time (key counts) so that they alone do not
        end a long-poll.
        """
        self.top[key] = value
        if is_update:
            self._updated = True

    @property
    def has_updates(self) -> bool:
        return self._updated

    # --- writes after the build ----------------------------------------------------------------

    def defer(self, write) -> None:
        """Run ``write()`` after the read snapshot ends, if this response is the one returned
        (builds are read-only; e.g. recording which members a device was sent)."""
        self._deferred.append(write)

    def run_deferred(self) -> None:
        for write in self._deferred:
            write()
        self._deferred.clear()

    # --- output -------------------------------------------------------------------------------

    def to_dict(self, next_batch: str, room_filter: "filters_service.RoomFilter", *,
                use_state_after: bool = False) -> dict:
        rooms = {}
        # With use_state_after, "state_after" replaces "state" (and must be there, even empty).
        state_key = "state_after" if use_state_after else "state"
        for section, entries in self.rooms.items():
            shaped = {}
            for room_id, entry in entries.items():
                if not room_filter.allows_room(room_id):
                    continue
                for key in _ROOM_BATCHES.get(section, ()):
                    key = state_key if key == "state" else key
                    entry.setdefault(key, {}).setdefault("events", [])
                if "timeline" in entry:
                    entry["timeline"].setdefault("limited", False)
                shaped[room_id] = entry
            rooms[section] = shaped
        body = {"next_batch": next_batch, "rooms": rooms}
        for key in ("account_data", "presence", "to_device"):
            body[key] = {"events": []}
        body.update(self.top)
        return body
