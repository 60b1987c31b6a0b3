// matrix-js-sdk in a room with a matrix-nio client (tests/test_sync_js.py drives both):
// joins ROOM_ID, says hello, waits through its normal sync loop for the nio client's answer,
// then scrolls back until the start of the room.
// Usage: node sync.mjs BASE_URL [ROOM_ID] (else the first line of stdin); prints one JSON line
// with what it saw.
import { randomBytes } from "node:crypto";

const { sdk, print } = await import("./sdk.mjs");

async function firstLine() {
  let data = "";
  for await (const chunk of process.stdin) {
    data += chunk;
    if (data.includes("\n")) break;
  }
  return data.trim();
}

const base = process.argv[2];
const roomId = process.argv[3] ?? await firstLine();
const TIMEOUT_MS = 60000;

const anonymous = sdk.createClient({ baseUrl: base });
const registered = await anonymous.registerRequest({
  username: `js_${randomBytes(4).toString("hex")}`, password: "js sync password",
  auth: { type: "m.login.dummy" },
});
const client = sdk.createClient({
  baseUrl: base, accessToken: registered.access_token, userId: registered.user_id,
  deviceId: registered.device_id,
});

const { promise: prepared, resolve: onPrepared } = Promise.withResolvers();
client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") onPrepared(); });
client.startClient({ initialSyncLimit: 5, pollTimeout: 2000, lazyLoadMembers: true });
await prepared;
await client.joinRoom(roomId);

const { promise: answered, resolve: onAnswer, reject: noAnswer } = Promise.withResolvers();
const timer = setTimeout(() => noAnswer(new Error("no answer from nio")), TIMEOUT_MS);
client.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
  if (toStartOfTimeline || room?.roomId !== roomId) return;
  if (event.getType() === "m.room.message" && event.getContent().body === "hello js from nio") {
    clearTimeout(timer);
    onAnswer(event.getSender());
  }
});
await client.sendTextMessage(roomId, "hello nio from js");
const answeredBy = await answered;

// Scrollback through /messages until the SDK says the start of the room is reached.
const room = client.getRoom(roomId);
for (let i = 0; i < 50; i++) {
  const timeline = room.getLiveTimeline();
  if (timeline.getPaginationToken(sdk.EventTimeline.BACKWARDS) === null) break;
  await client.scrollback(room, 20);
}
const events = room.getLiveTimeline().getEvents();
const bodies = events.filter((e) => e.getType() === "m.room.message").map((e) => e.getContent().body);
client.stopClient();
print(JSON.stringify({
  answered_by: answeredBy,
  first_type: events[0]?.getType(),
  bodies,
  duplicates: events.length - new Set(events.map((e) => e.getId())).size,
}));
process.exit(0);
