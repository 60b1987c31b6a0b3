// matrix-js-sdk with its Rust crypto (matrix-sdk-crypto-wasm) against this homeserver: two
// clients in an encrypted room; each must decrypt the other's message.
// Usage: node e2ee.mjs BASE_URL ; prints one JSON line with what each client decrypted.
import { randomBytes } from "node:crypto";

// matrix-js-sdk 43 targets Node 22; Node 20 lacks only this.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("error");
for (const name of ["log", "info", "debug"]) console[name] = () => {};  // the SDK is chatty
const print = (line) => process.stdout.write(line + "\n");

const base = process.argv[2];
const TIMEOUT_MS = 60000;

async function login(prefix) {
  const anonymous = sdk.createClient({ baseUrl: base });
  const username = `${prefix}_${randomBytes(4).toString("hex")}`;
  const response = await anonymous.registerRequest({
    username, password: "js e2ee password", auth: { type: "m.login.dummy" },
  });
  const client = sdk.createClient({
    baseUrl: base, accessToken: response.access_token, userId: response.user_id,
    deviceId: response.device_id,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  return client;
}

function started(client) {
  const { promise, resolve } = Promise.withResolvers();
  client.once(sdk.ClientEvent.Sync, (state) => resolve(state));
  // Short long-polls: a stopped client leaves no request waiting long in the server.
  client.startClient({ initialSyncLimit: 10, pollTimeout: 2000 });
  return promise;
}

// Resolves with the decrypted body of the first m.room.message from `sender` in `roomId`.
function decryptedFrom(client, roomId, sender) {
  const { promise, resolve, reject } = Promise.withResolvers();
  const timer = setTimeout(() => reject(new Error(`${client.getUserId()} timed out`)), TIMEOUT_MS);
  const check = async (event) => {
    if (event.getRoomId() !== roomId || event.getSender() !== sender) return;
    if (event.isEncrypted()) await client.decryptEventIfNeeded(event);
    // A failure is retried by the SDK when the room key arrives (a later Decrypted event).
    if (event.isDecryptionFailure()) return;
    if (event.getType() === "m.room.message" && event.getClearContent()?.body) {
      clearTimeout(timer);
      resolve({ body: event.getClearContent().body, encrypted: event.isEncrypted() });
    }
  };
  client.on(sdk.RoomEvent.Timeline, (event) => { check(event); });
  client.on(sdk.MatrixEventEvent.Decrypted, (event) => { check(event); });
  return promise;
}

async function waitFor(predicate, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alice = await login("js_alice");
const bob = await login("js_bob");
try {
  await Promise.all([started(alice), started(bob)]);
  const { room_id: roomId } = await alice.createRoom({
    invite: [bob.getUserId()],
    initial_state: [{ type: "m.room.encryption", state_key: "",
                      content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  await waitFor(() => bob.getRoom(roomId), "bob's invite");
  await bob.joinRoom(roomId);
  await waitFor(() => alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership === "join",
                "bob's join seen by alice");

  const bobGets = decryptedFrom(bob, roomId, alice.getUserId());
  await alice.sendEvent(roomId, "m.room.message", { msgtype: "m.text", body: "hello bob from js" });
  const atBob = await bobGets;

  const aliceGets = decryptedFrom(alice, roomId, bob.getUserId());
  await bob.sendEvent(roomId, "m.room.message", { msgtype: "m.text", body: "hi alice from js" });
  const atAlice = await aliceGets;
  print(JSON.stringify({ bob_decrypted: atBob, alice_decrypted: atAlice }));
} finally {
  alice.stopClient();
  bob.stopClient();
}
process.exit(0);
