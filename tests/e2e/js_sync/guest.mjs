// matrix-js-sdk as a guest (tests/test_guest_js.py drives it): registerGuest(), a normal sync
// loop, joins GUEST_ROOM (guest_access can_join) and sends to it, is refused createRoom, then
// peeks into READABLE_ROOM (world_readable, not joined) with peekInRoom() and waits for a new
// message there. Each time it is ready for the new message it prints "send"; the driver then
// sends one (the first /events long-poll may start after the driver's message: it asks again).
// Usage: node guest.mjs BASE_URL GUEST_ROOM READABLE_ROOM; the last line printed is one JSON
// object with what it saw.

const { sdk, print } = await import("./sdk.mjs");

const [base, guestRoomId, readableRoomId] = process.argv.slice(2);
const WAIT_MS = 10000;
const TRIES = 6;

const anonymous = sdk.createClient({ baseUrl: base });
const registered = await anonymous.registerGuest({ body: { initial_device_display_name: "js guest" } });
const client = sdk.createClient({
  baseUrl: base, accessToken: registered.access_token, userId: registered.user_id,
  deviceId: registered.device_id,
});
client.setGuest(true);

const { promise: prepared, resolve: onPrepared } = Promise.withResolvers();
client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") onPrepared(); });
client.startClient({ initialSyncLimit: 5, pollTimeout: 2000 });
await prepared;

await client.joinRoom(guestRoomId);
const sent = await client.sendTextMessage(guestRoomId, "hello from a js guest");

let createRoomError = null;
try {
  await client.createRoom({ name: "a guest's room" });
} catch (err) {
  createRoomError = err.errcode ?? String(err);
}

const peeked = await client.peekInRoom(readableRoomId);
const history = peeked.getLiveTimeline().getEvents()
  .filter((e) => e.getType() === "m.room.message").map((e) => e.getContent().body);
const isMember = peeked.getMyMembership();

let live = null;
const { promise: arrived, resolve: onArrived } = Promise.withResolvers();
peeked.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
  if (!toStartOfTimeline && event.getType() === "m.room.message"
      && event.getContent().body === "live message") {
    live = event.getSender();
    onArrived();
  }
});
for (let i = 0; i < TRIES && live === null; i++) {
  print("send");
  let timer;
  await Promise.race([arrived, new Promise((resolve) => { timer = setTimeout(resolve, WAIT_MS); })]);
  clearTimeout(timer);
}
client.stopPeeking();
client.stopClient();
print(JSON.stringify({
  user_id: registered.user_id,
  is_guest: client.isGuest(),
  sent_event_id: sent.event_id,
  create_room_error: createRoomError,
  peeked_history: history,
  membership_while_peeking: isMember,
  live_message_from: live,
}));
process.exit(0);
