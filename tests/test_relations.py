"""GET /v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] (spec: Relationships
API) and the bundled aggregations of m.replace, m.thread and m.reference it returns."""

import pytest

from rooms_support import (V3, create_room, error, invite, join, leave, ok, put_state_ok, q,
                           redact, send_ok)

V1 = "/_matrix/client/v1"


@pytest.fixture
def alice(register_user):
    return register_user("alice")


@pytest.fixture
def bob(register_user):
    return register_user("bob")


def relates(event_id, rel_type, **extra):
    return {"m.relates_to": {"rel_type": rel_type, "event_id": event_id, **extra}}


def reply(user, room, parent, rel_type, body="child", **kwargs):
    return send_ok(user, room, body, **relates(parent, rel_type), **kwargs)


def edit(user, room, original, new_body, event_type="m.room.message"):
    return send_ok(user, room, f"* {new_body}", event_type=event_type,
                   **{"m.new_content": {"msgtype": "m.text", "body": new_body}},
                   **relates(original, "m.replace"))


def relations(user, room, event_id, *path, **params):
    url = f"{V1}/rooms/{q(room)}/relations/{q(event_id)}"
    for part in path:
        url += f"/{q(part)}"
    if params:
        url += "?" + "&".join(f"{k}={q(str(v))}" for k, v in params.items())
    return user.get(url)


def ids(body):
    return [event["event_id"] for event in body["chunk"]]


def test_children_newest_first_with_all_relation_types(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    thread = reply(alice, room, root, "m.thread")
    reference = reply(alice, room, root, "m.reference")
    reaction = send_ok(alice, room, event_type="m.reaction",
                       **relates(root, "m.annotation", key="👍"))
    send_ok(alice, room, "unrelated")
    body = ok(relations(alice, room, root))
    assert ids(body) == [reaction, reference, thread]
    assert "next_batch" not in body and "prev_batch" not in body
    assert "recursion_depth" not in body
    assert body["chunk"][0]["room_id"] == room
    assert body["chunk"][0]["content"]["m.relates_to"]["key"] == "👍"


def test_filter_by_rel_type_and_event_type(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    thread = reply(alice, room, root, "m.thread")
    reply(alice, room, root, "m.reference")
    send_ok(alice, room, event_type="m.reaction", **relates(root, "m.annotation", key="x"))
    assert ids(ok(relations(alice, room, root, "m.thread"))) == [thread]
    assert ids(ok(relations(alice, room, root, "m.annotation", "m.room.message"))) == []
    assert len(ok(relations(alice, room, root, "m.annotation", "m.reaction"))["chunk"]) == 1
    assert ids(ok(relations(alice, room, root, "org.example.none"))) == []


def test_pagination_backwards_and_forwards(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    children = [reply(alice, room, root, "m.reference", f"c{i}") for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 3}
        if token:
            params["from"] = token
        body = ok(relations(alice, room, root, **params))
        pages += 1
        seen += ids(body)
        if token:
            assert body["prev_batch"] == token
        if "next_batch" not in body:
            break
        token = body["next_batch"]
    assert seen == list(reversed(children))
    assert pages == 3
    forwards = ok(relations(alice, room, root, dir="f", limit=4))
    assert ids(forwards) == children[:4]
    rest = ok(relations(alice, room, root, dir="f", limit=4, **{"from": forwards["next_batch"]}))
    assert ids(rest) == children[4:]
    assert "next_batch" not in rest


def test_to_token_bounds_the_range(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    children = [reply(alice, room, root, "m.reference", f"c{i}") for i in range(6)]
    first = ok(relations(alice, room, root, limit=2))
    assert ids(first) == [children[5], children[4]]
    # from page 1's start to page 2's end: everything up to (not including) page 1.
    upto = ok(relations(alice, room, root, limit=2, **{"from": first["next_batch"]}))
    between = ok(relations(alice, room, root, **{"from": first["next_batch"],
                                                 "to": upto["next_batch"]}))
    assert ids(between) == [children[3], children[2]]
    # A from token "before" the to token gives nothing.
    assert ids(ok(relations(alice, room, root, **{"from": upto["next_batch"],
                                                  "to": first["next_batch"]}))) == []


def test_tokens_from_messages_work(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    early = reply(alice, room, root, "m.reference", "early")
    messages = ok(alice.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=1"))
    late = reply(alice, room, root, "m.reference", "late")
    assert ids(ok(relations(alice, room, root, **{"from": messages["start"]}))) == [early]
    assert ids(ok(relations(alice, room, root))) == [late, early]


def test_recurse_follows_relations_of_relations(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    level1 = reply(alice, room, root, "m.thread", "in thread")
    level2 = send_ok(alice, room, event_type="m.reaction", **relates(level1, "m.annotation",
                                                                     key="👍"))
    level2_edit = edit(alice, room, level1, "edited")
    level3 = reply(alice, room, level2_edit, "m.reference")
    level4 = reply(alice, room, level3, "m.reference")
    direct = ok(relations(alice, room, root, recurse="false"))
    assert ids(direct) == [level1]
    assert direct["recursion_depth"] == 0
    deep = ok(relations(alice, room, root, recurse="true"))
    assert set(ids(deep)) == {level1, level2, level2_edit, level3}
    assert level4 not in ids(deep)
    assert deep["recursion_depth"] == 3
    # A filter applies at every level: the reaction under the thread event is not reached
    # through an m.annotation path from the root.
    assert ids(ok(relations(alice, room, root, "m.annotation", recurse="true"))) == []
    threaded = ok(relations(alice, room, level1, "m.annotation", recurse="true"))
    assert ids(threaded) == [level2]
    assert threaded["recursion_depth"] == 1


def test_unknown_or_invisible_parent_is_404(alice, bob):
    room = create_room(alice, preset="private_chat")
    secret = send_ok(alice, room, "before bob")
    reply(alice, room, secret, "m.reference")
    error(relations(alice, room, "$nope"), 404, "M_NOT_FOUND")
    error(relations(bob, room, secret), 404, "M_NOT_FOUND")
    other = create_room(alice)
    error(relations(alice, other, secret), 404, "M_NOT_FOUND")
    # joined history visibility: bob, joining later, still cannot see the parent.
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    hidden = send_ok(alice, room, "while joined-only, before bob")
    invite(alice, room, bob)
    join(bob, room)
    error(relations(bob, room, hidden), 404, "M_NOT_FOUND")
    # "shared" history (the default when the secret was sent): a member sees all of it.
    ok(relations(bob, room, secret))


def test_children_bob_cannot_see_are_left_out(alice, bob):
    room = create_room(alice, preset="public_chat")
    root = send_ok(alice, room, "root")
    join(bob, room)
    seen_by_bob = reply(alice, room, root, "m.reference", "while joined")
    leave(bob, room)
    reply(alice, room, root, "m.reference", "after bob left")
    assert ids(ok(relations(bob, room, root))) == [seen_by_bob]


def test_ignored_users_children_are_left_out(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    root = send_ok(alice, room, "root")
    from_bob = reply(bob, room, root, "m.reference")
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/account_data/m.ignored_user_list",
                 json={"ignored_users": {bob.user_id: {}}}))
    assert ids(ok(relations(alice, room, root))) == []
    assert ids(ok(relations(bob, room, root))) == [from_bob]


def test_redacted_child_breaks_the_relation(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    child = reply(alice, room, root, "m.reference")
    ok(redact(alice, room, child))
    assert ids(ok(relations(alice, room, root))) == []


def test_bad_arguments(alice):
    room = create_room(alice)
    root = send_ok(alice, room, "root")
    error(relations(alice, room, root, dir="x"), 400, "M_INVALID_PARAM")
    error(relations(alice, room, root, limit="ten"), 400, "M_INVALID_PARAM")
    error(relations(alice, room, root, recurse="yes"), 400, "M_INVALID_PARAM")
    error(relations(alice, room, root, **{"from": "garbage"}), 400, "M_INVALID_PARAM")
    assert alice.client.get(f"{V1}/rooms/{q(room)}/relations/{q(root)}").status_code == 401


# --- bundled aggregations ---------------------------------------------------------------------

def parent_as_child(user, room, holder, event_id):
    """The event ``event_id`` as it appears in ``holder``'s /relations chunk."""
    for event in ok(relations(user, room, holder))["chunk"]:
        if event["event_id"] == event_id:
            return event
    raise AssertionError(f"{event_id} not related to {holder}")


def test_edit_aggregation_is_the_latest_valid_edit(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    holder = send_ok(alice, room, "holder")
    original = reply(alice, room, holder, "m.reference", "original")
    edit(alice, room, original, "first edit")
    latest = edit(alice, room, original, "second edit")
    edit(bob, room, original, "not the sender")                       # invalid: other sender
    send_ok(alice, room, "no new content", **relates(original, "m.replace"))  # invalid
    event = parent_as_child(alice, room, holder, original)
    replace = event["unsigned"]["m.relations"]["m.replace"]
    assert replace["event_id"] == latest
    assert replace["content"]["m.new_content"]["body"] == "second edit"
    assert replace["sender"] == alice.user_id and replace["type"] == "m.room.message"
    # The original's content is left intact.
    assert event["content"]["body"] == "original"


def test_edit_of_another_type_or_of_an_edit_is_not_aggregated(alice):
    room = create_room(alice)
    holder = send_ok(alice, room, "holder")
    original = reply(alice, room, holder, "m.reference", "original")
    edit(alice, room, original, "other type", event_type="org.example.message")
    event = parent_as_child(alice, room, holder, original)
    assert "m.relations" not in event["unsigned"]
    an_edit = edit(alice, room, holder, "edited holder")
    edit(alice, room, an_edit, "edit of an edit")
    chunk = ok(relations(alice, room, holder, "m.replace"))["chunk"]
    assert [e["event_id"] for e in chunk] == [an_edit]
    assert "m.relations" not in chunk[0]["unsigned"]


def test_redacting_the_latest_edit_reverts_to_the_one_before(alice):
    room = create_room(alice)
    holder = send_ok(alice, room, "holder")
    original = reply(alice, room, holder, "m.reference", "original")
    first = edit(alice, room, original, "first")
    second = edit(alice, room, original, "second")
    ok(redact(alice, room, second))
    event = parent_as_child(alice, room, holder, original)
    assert event["unsigned"]["m.relations"]["m.replace"]["event_id"] == first
    ok(redact(alice, room, original))
    # Redacting the original does not redact its edits: they still relate to it.
    chunk = ok(relations(alice, room, original))["chunk"]
    assert [e["event_id"] for e in chunk] == [first]


def test_thread_aggregation(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    join(carol, room)
    holder = send_ok(alice, room, "holder")
    root = reply(alice, room, holder, "m.reference", "thread root")
    reply(bob, room, root, "m.thread", "one")
    last = reply(bob, room, root, "m.thread", "two")
    last_edit = edit(bob, room, last, "two (edited)")
    for user, participated in ((alice, True), (bob, True), (carol, False)):
        event = parent_as_child(user, room, holder, root)
        thread = event["unsigned"]["m.relations"]["m.thread"]
        assert thread["count"] == 2
        assert thread["current_user_participated"] is participated
        latest = thread["latest_event"]
        assert latest["event_id"] == last and latest["room_id"] == room
        assert latest["unsigned"]["m.relations"]["m.replace"]["event_id"] == last_edit


def test_thread_aggregation_leaves_out_ignored_users(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    join(carol, room)
    holder = send_ok(alice, room, "holder")
    root = reply(alice, room, holder, "m.reference", "root")
    from_carol = reply(carol, room, root, "m.thread", "carol")
    reply(bob, room, root, "m.thread", "bob")
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/account_data/m.ignored_user_list",
                 json={"ignored_users": {bob.user_id: {}}}))
    thread = parent_as_child(alice, room, holder, root)["unsigned"]["m.relations"]["m.thread"]
    assert thread["count"] == 1
    assert thread["latest_event"]["event_id"] == from_carol


def test_reference_aggregation(alice):
    room = create_room(alice)
    holder = send_ok(alice, room, "holder")
    target = reply(alice, room, holder, "m.reference", "target")
    one = reply(alice, room, target, "m.reference", "one")
    two = reply(alice, room, target, "m.reference", "two")
    send_ok(alice, room, event_type="m.reaction", **relates(target, "m.annotation", key="a"))
    relations_of = parent_as_child(alice, room, holder, target)["unsigned"]["m.relations"]
    assert relations_of == {"m.reference": {"chunk": [{"event_id": one}, {"event_id": two}]}}


def test_bundling_in_the_sync_shape(app, alice):
    """What /sync (events without room_id) gets from
    services.reading.relations.bundle_aggregations."""
    from homeserver.services.reading.relations import bundle_aggregations

    room = create_room(alice)
    root = send_ok(alice, room, "root")
    latest = reply(alice, room, root, "m.thread")
    state_event = {"event_id": put_state_ok(alice, room, "m.room.topic", {"topic": "t"}),
                   "type": "m.room.topic", "state_key": "", "unsigned": {}}
    reply(alice, room, state_event["event_id"], "m.reference")  # state events get no bundles
    events = [{"event_id": root, "type": "m.room.message", "unsigned": {"age": 1}},
              state_event]
    with app.app_context():
        bundle_aggregations(events, alice.user_id, alice.device_id, room_id=room,
                            include_room_id=False)
    thread = events[0]["unsigned"]["m.relations"]["m.thread"]
    assert events[0]["unsigned"]["age"] == 1
    assert thread["latest_event"]["event_id"] == latest
    assert "room_id" not in thread["latest_event"]
    assert "m.relations" not in state_event["unsigned"]
