"""POST /v3/search (spec module "Server Side Search"): room_events over message bodies, room
names and topics; ranking and recency, pagination, filters, groupings, context, state; only
what the user may see."""

import pytest

from rooms_support import (V3, create_room, error, invite, join, leave, ok, put_state_ok, q,
                           redact, send_ok)


@pytest.fixture
def alice(register_user):
    return register_user("alice")


@pytest.fixture
def bob(register_user):
    return register_user("bob")


def search(user, term=None, next_batch=None, **criteria):
    if term is not None:
        criteria["search_term"] = term
    path = f"{V3}/search" + (f"?next_batch={q(next_batch)}" if next_batch else "")
    return user.post(path, json={"search_categories": {"room_events": criteria}})


def found(user, term, **criteria):
    body = ok(search(user, term, **criteria))["search_categories"]["room_events"]
    return body


def result_ids(body):
    return [result["result"]["event_id"] for result in body["results"]]


def test_finds_messages_by_words_any_case_and_stem(alice):
    room = create_room(alice)
    hit = send_ok(alice, room, "The Martians have landed in Woking")
    send_ok(alice, room, "nothing to see here")
    body = found(alice, "martian")
    assert result_ids(body) == [hit]
    assert body["count"] == 1
    assert body["highlights"] == ["martian"]
    result = body["results"][0]
    assert isinstance(result["rank"], (int, float))
    assert result["result"]["room_id"] == room
    assert result["result"]["content"]["body"] == "The Martians have landed in Woking"
    assert "next_batch" not in body
    # Every word must appear.
    assert result_ids(found(alice, "MARTIANS woking")) == [hit]
    assert result_ids(found(alice, "martians london")) == []
    assert result_ids(found(alice, "   ")) == []


def test_rank_orders_by_relevance_recent_by_time(alice):
    room = create_room(alice)
    strong = send_ok(alice, room, "cake cake cake")
    weak = send_ok(alice, room, "I think cake is one of many nice things to eat after dinner "
                                "when there is nothing else left in the kitchen at all")
    assert result_ids(found(alice, "cake")) == [strong, weak]
    assert result_ids(found(alice, "cake", order_by="recent")) == [weak, strong]
    ranked = found(alice, "cake")["results"]
    assert ranked[0]["rank"] > ranked[1]["rank"]


def test_names_and_topics_and_keys(alice):
    room = create_room(alice, name="Gardening club", topic="Tomatoes and roses")
    message = send_ok(alice, room, "my tomatoes are red")
    name_event = put_state_ok(alice, room, "m.room.name", {"name": "Tomato growers"})
    topics = result_ids(found(alice, "roses"))
    assert len(topics) == 1
    assert set(result_ids(found(alice, "tomato"))) >= {message, name_event}
    assert result_ids(found(alice, "tomato", keys=["content.body"])) == [message]
    assert result_ids(found(alice, "tomato", keys=["content.name"])) == [name_event]
    assert result_ids(found(alice, "tomato", keys=["content.topic"])) != []
    error(search(alice, "x", keys=["content.sender"]), 400, "M_BAD_JSON")


def test_pagination_in_both_orders(alice):
    room = create_room(alice)
    sent = [send_ok(alice, room, f"needle number {i}") for i in range(7)]
    for order in ("recent", "rank"):
        seen, token = [], None
        while True:
            body = ok(search(alice, "needle", next_batch=token, order_by=order,
                             filter={"limit": 3}))["search_categories"]["room_events"]
            assert body["count"] == 7
            seen += result_ids(body)
            token = body.get("next_batch")
            if token is None:
                break
        assert sorted(seen) == sorted(sent) and len(seen) == 7
        if order == "recent":
            assert seen == list(reversed(sent))
    error(search(alice, "needle", next_batch="not-a-token"), 400, "M_INVALID_PARAM")
    token = found(alice, "needle", order_by="recent", filter={"limit": 1})["next_batch"]
    error(search(alice, "needle", next_batch=token, order_by="rank"), 400, "M_INVALID_PARAM")


def test_only_rooms_and_history_the_user_may_see(alice, bob):
    public = create_room(alice, preset="public_chat")
    before = send_ok(alice, public, "secret plan before bob")
    private = create_room(alice, preset="private_chat")
    send_ok(alice, private, "secret plan in private")
    join(bob, public)
    during = send_ok(alice, public, "secret plan while bob is here")
    leave(bob, public)
    send_ok(alice, public, "secret plan after bob left")
    # shared history: before and during, not after he left; never the room he was not in.
    assert sorted(result_ids(found(bob, "secret plan"))) == sorted([before, during])
    assert len(result_ids(found(alice, "secret plan"))) == 4


def test_joined_only_history_hides_what_came_before(alice, bob):
    room = create_room(alice, preset="private_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    send_ok(alice, room, "llama before")
    invite(alice, room, bob)
    join(bob, room)
    after = send_ok(alice, room, "llama after")
    assert result_ids(found(bob, "llama")) == [after]


def test_encrypted_rooms_redactions_and_ignored_users(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    redacted = send_ok(alice, room, "zebra one")
    ignored = send_ok(bob, room, "zebra two")
    kept = send_ok(alice, room, "zebra three")
    assert len(result_ids(found(alice, "zebra"))) == 3
    ok(redact(alice, room, redacted))
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/account_data/m.ignored_user_list",
                 json={"ignored_users": {bob.user_id: {}}}))
    assert result_ids(found(alice, "zebra")) == [kept]
    assert sorted(result_ids(found(bob, "zebra"))) == sorted([ignored, kept])
    encrypted = create_room(alice)
    send_ok(alice, encrypted, "zebra in the clear before encryption")
    put_state_ok(alice, encrypted, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    assert result_ids(found(alice, "zebra")) == [kept]


def test_filter(alice, bob):
    first = create_room(alice, preset="public_chat")
    second = create_room(alice, preset="public_chat")
    join(bob, first)
    in_first = send_ok(alice, first, "walrus")
    by_bob = send_ok(bob, first, "walrus")
    in_second = send_ok(alice, second, "walrus")
    custom = send_ok(alice, second, "walrus", event_type="org.example.note")
    with_url = send_ok(alice, second, "walrus picture", msgtype="m.image", url="mxc://x/y")
    assert custom not in result_ids(found(alice, "walrus"))
    assert sorted(result_ids(found(alice, "walrus", filter={"rooms": [first]}))) == \
        sorted([in_first, by_bob])
    assert sorted(result_ids(found(alice, "walrus", filter={"not_rooms": [first]}))) == \
        sorted([in_second, with_url])
    assert result_ids(found(alice, "walrus", filter={"senders": [bob.user_id]})) == [by_bob]
    assert by_bob not in result_ids(found(alice, "walrus",
                                          filter={"not_senders": [bob.user_id]}))
    assert result_ids(found(alice, "walrus", filter={"contains_url": True})) == [with_url]
    assert result_ids(found(alice, "walrus", filter={"not_types": ["m.room.*"]})) == []
    error(search(alice, "walrus", filter={"rooms": "nope"}), 400, "M_BAD_JSON")


def test_groupings(alice, bob):
    first = create_room(alice, preset="public_chat")
    second = create_room(alice, preset="public_chat")
    join(bob, first)
    a1 = send_ok(alice, first, "heron")
    b1 = send_ok(bob, first, "heron")
    a2 = send_ok(alice, second, "heron")
    body = found(alice, "heron", order_by="recent",
                 groupings={"group_by": [{"key": "room_id"}, {"key": "sender"}]})
    groups = body["groups"]
    assert groups["room_id"][first]["results"] == [b1, a1]
    assert groups["room_id"][second]["results"] == [a2]
    assert groups["room_id"][second]["order"] == 1 and groups["room_id"][first]["order"] == 2
    assert groups["sender"][alice.user_id]["results"] == [a2, a1]
    assert groups["sender"][bob.user_id]["results"] == [b1]
    assert all("next_batch" not in group for key in groups for group in groups[key].values())
    # A group's token continues inside that group only.
    page = found(alice, "heron", order_by="recent", filter={"limit": 1},
                 groupings={"group_by": [{"key": "sender"}]})
    assert result_ids(page) == [a2]
    token = page["groups"]["sender"][alice.user_id]["next_batch"]
    rest = ok(search(alice, "heron", next_batch=token, order_by="recent"))
    assert result_ids(rest["search_categories"]["room_events"]) == [a1]


def test_event_context_with_profiles(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname", json={"displayname": "Bobby"}))
    before = [send_ok(alice, room, f"before {i}") for i in range(3)]
    hit = send_ok(bob, room, "kingfisher")
    after = [send_ok(alice, room, f"after {i}") for i in range(3)]
    result = found(alice, "kingfisher", event_context={"before_limit": 2, "after_limit": 1,
                                                       "include_profile": True})["results"][0]
    context = result["context"]
    assert [e["event_id"] for e in context["events_before"]] == [before[2], before[1]]
    assert [e["event_id"] for e in context["events_after"]] == [after[0]]
    assert context["profile_info"][bob.user_id]["displayname"] == "Bobby"
    messages = ok(alice.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=1&from="
                            + q(context["start"])))
    assert messages["chunk"][0]["event_id"] == before[0]
    assert "context" not in found(alice, "kingfisher")["results"][0]


def test_include_state(alice):
    room = create_room(alice, name="Birdwatchers")
    send_ok(alice, room, "owl")
    body = found(alice, "owl", include_state=True)
    state_types = {event["type"] for event in body["state"][room]}
    assert {"m.room.create", "m.room.name", "m.room.member"} <= state_types
    assert "state" not in found(alice, "owl")


def test_results_carry_bundled_aggregations(alice):
    room = create_room(alice)
    original = send_ok(alice, room, "badger")
    replacement = send_ok(alice, room, "* otter", **{
        "m.new_content": {"msgtype": "m.text", "body": "otter"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original}})
    result = next(r for r in found(alice, "badger")["results"]
                  if r["result"]["event_id"] == original)
    assert result["result"]["unsigned"]["m.relations"]["m.replace"]["event_id"] == replacement


def test_request_shape(alice):
    assert ok(alice.post(f"{V3}/search", json={"search_categories": {}})) == \
        {"search_categories": {}}
    error(alice.post(f"{V3}/search", json={}), 400, "M_BAD_JSON")
    error(alice.post(f"{V3}/search", data="nope"), 400, "M_NOT_JSON")
    error(search(alice), 400, "M_BAD_JSON")
    error(search(alice, "x", order_by="oldest"), 400, "M_BAD_JSON")
    error(search(alice, "x", event_context={"before_limit": -1}), 400, "M_BAD_JSON")
    assert alice.client.post(f"{V3}/search", json={"search_categories": {}}).status_code == 401
    # No rooms yet: no results, nothing breaks.
    assert found(alice, "anything")["results"] == []


def test_index_catches_up_in_batches(alice, monkeypatch):
    from homeserver.services.reading import search_index

    monkeypatch.setattr(search_index, "BATCH", 3)
    room = create_room(alice)
    sent = [send_ok(alice, room, f"puffin {i}") for i in range(8)]
    assert sorted(result_ids(found(alice, "puffin", filter={"limit": 20}))) == sorted(sent)
    newer = send_ok(alice, room, "puffin again")
    assert result_ids(found(alice, "puffin", order_by="recent"))[0] == newer


def test_without_a_text_index_words_are_matched_with_like(alice, monkeypatch):
    """SQLite builds without FTS5 search with LIKE (PostgreSQL always has its text search)."""
    from homeserver.services.reading import search_index

    monkeypatch.setattr(search_index, "_has_fts5", lambda: False)
    room = create_room(alice)
    hit = send_ok(alice, room, "Gannets_and 100% guillemots")
    send_ok(alice, room, "gannets only")
    assert result_ids(found(alice, "guillemots GANNETS")) == [hit]
    assert result_ids(found(alice, "100")) == [hit]
