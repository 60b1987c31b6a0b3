"""Which events an application service is sent (spec: Application Service API, "Pushing
events": events whose sender, room ID or room alias lies in its namespaces, the membership
events of its users, and every event of a room where one of its users is joined); and which
users' presence and device lists (MSC2409, MSC3202): those in its user namespaces and those
joined to a room it is sent the events of."""

from __future__ import annotations

from ...models.rooms import CurrentState, RoomAlias
from .registrations import AppService

# User IDs per IN (...) query, well under the databases' limits on bound parameters.
_CHUNK = 500


class RoomInterest:
    """Per room, whether the service wants all its events; computed once per batch."""

    def __init__(self, service: AppService):
        self._service = service
        self._rooms: dict[str, bool] = {}

    def load(self, room_ids: set[str]) -> None:
        wanted = sorted(r for r in room_ids if r not in self._rooms)
        if not wanted:
            return
        service = self._service
        for room_id in wanted:
            self._rooms[room_id] = service.is_interested_in_room(room_id)
        if service.aliases:
            for row in RoomAlias.select(RoomAlias.alias, RoomAlias.room).where(
                    RoomAlias.room.in_(wanted)).tuples():
                if service.is_interested_in_alias(row[0]):
                    self._rooms[row[1]] = True
        undecided = [r for r in wanted if not self._rooms[r]]
        if undecided:
            members = (CurrentState.select(CurrentState.room, CurrentState.state_key)
                       .where(CurrentState.room.in_(undecided)
                              & (CurrentState.type == "m.room.member")
                              & (CurrentState.membership == "join")).tuples())
            for room_id, user_id in members:
                if not self._rooms[room_id] and service.is_interested_in_user(user_id):
                    self._rooms[room_id] = True

    def users_of_interest(self, user_ids: set[str]) -> set[str]:
        """Those of ``user_ids`` in the service's user namespaces or joined to a room it wants."""
        service = self._service
        found = {u for u in user_ids if service.is_interested_in_user(u)}
        others = sorted(user_ids - found)
        for start in range(0, len(others), _CHUNK):
            rooms_of = list(CurrentState.select(CurrentState.state_key, CurrentState.room)
                            .where(CurrentState.state_key.in_(others[start:start + _CHUNK])
                                   & (CurrentState.type == "m.room.member")
                                   & (CurrentState.membership == "join")).tuples())
            self.load({room_id for _, room_id in rooms_of})
            found.update(user for user, room_id in rooms_of if self._rooms.get(room_id))
        return found

    def wants_room(self, room_id: str) -> bool:
        return bool(self._rooms.get(room_id))

    def wants(self, room_id: str, sender: str, event_type: str, state_key: str | None) -> bool:
        """Whether the service is sent this event (call ``load`` with its room first)."""
        service = self._service
        if self._rooms.get(room_id) or service.is_interested_in_user(sender):
            return True
        return (event_type == "m.room.member" and state_key is not None
                and service.is_interested_in_user(state_key))
