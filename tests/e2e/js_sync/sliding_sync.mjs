// matrix-js-sdk through Simplified Sliding Sync (MSC4186) instead of /sync
// (tests/test_sliding_sync_js.py drives it): lists the rooms it is in, then waits for a message
// the Python side sends into one of them after it reported ready.
// Usage: node sliding_sync.mjs BASE_URL USER_ID ACCESS_TOKEN DEVICE_ID; prints JSON lines:
// {"rooms": [...]} once the list has loaded, then {"received": body, "sender": ...}.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const sdk = await import("matrix-js-sdk");
const { SlidingSync } = await import("matrix-js-sdk/lib/sliding-sync.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("error");
for (const name of ["log", "info", "debug"]) console[name] = () => {};
const print = (line) => process.stdout.write(line + "\n");

const [base, userId, accessToken, deviceId] = process.argv.slice(2);
const TIMEOUT_MS = 60000;
const client = sdk.createClient({ baseUrl: base, accessToken, userId, deviceId });
const lists = new Map([["all", {
  ranges: [[0, 19]], timeline_limit: 5,
  required_state: [["m.room.name", ""], ["m.room.create", ""], ["m.room.member", "$LAZY"]],
}]]);
const slidingSync = new SlidingSync(base, lists, { timeline_limit: 5, required_state: [] },
                                    client, 5000);

const { promise: listed, resolve: onListed } = Promise.withResolvers();
const { promise: received, resolve: onReceived, reject: noMessage } = Promise.withResolvers();
const errors = [];
slidingSync.on("SlidingSync.Lifecycle", (state, resp, err) => {
  if (err) errors.push(String(err.message ?? err));
  const count = resp?.lists?.all?.count;
  if (state === "COMPLETE" && count > 0) onListed(count);
});
client.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
  if (toStartOfTimeline) return;
  if (event.getType() === "m.room.message" && event.getContent().body === "live message") {
    onReceived({ received: event.getContent().body, sender: event.getSender(),
                 room: room?.roomId });
  }
});
const timer = setTimeout(
  () => noMessage(new Error(`no live message; errors: ${errors.join("; ")}`)), TIMEOUT_MS);
await client.startClient({ slidingSync });
const count = await listed;
// Let the rooms of the first response reach the client's store.
for (let i = 0; i < 50 && client.getRooms().length < count; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
print(JSON.stringify({
  count,
  rooms: client.getRooms().map((room) => ({ id: room.roomId, name: room.name })),
}));
const got = await received;
clearTimeout(timer);
print(JSON.stringify(got));
client.stopClient();
slidingSync.stop();
process.exit(0);
