// matrix-js-sdk against the content repository: register, upload, download (authenticated), thumbnail.
// Usage: node media.mjs BASE_URL FILE CONTENT_TYPE NAME ; prints one JSON line with what it saw.
import { readFile } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";

// matrix-js-sdk 43 targets Node 22; this machine has Node 20, which lacks only this.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const sdk = await import("matrix-js-sdk");

const [base, file, contentType, name] = process.argv.slice(2);

async function register(prefix) {
  const anonymous = sdk.createClient({ baseUrl: base });
  const username = `${prefix}_${randomBytes(4).toString("hex")}`;
  const response = await anonymous.registerRequest({
    username, password: "js e2e password", auth: { type: "m.login.dummy" },
  });
  return sdk.createClient({
    baseUrl: base, accessToken: response.access_token, userId: response.user_id,
    deviceId: response.device_id,
  });
}

async function authedFetch(client, url) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get("content-type"), body };
}

const sender = await register("js_sender");
const receiver = await register("js_receiver");
const data = await readFile(file);
const uploaded = await sender.uploadContent(data, { name, type: contentType });
const downloadUrl = receiver.mxcUrlToHttp(uploaded.content_uri, undefined, undefined, undefined,
  false, true, true);
const download = await authedFetch(receiver, downloadUrl);
const thumbUrl = receiver.mxcUrlToHttp(uploaded.content_uri, 96, 96, "crop", false, true, true);
const thumb = await authedFetch(receiver, thumbUrl);
const sha = (buffer) => createHash("sha256").update(buffer).digest("hex");
console.log(JSON.stringify({
  content_uri: uploaded.content_uri,
  download_url: downloadUrl,
  download_status: download.status,
  download_type: download.type,
  download_sha256: sha(download.body),
  thumbnail_url: thumbUrl,
  thumbnail_status: thumb.status,
  thumbnail_type: thumb.type,
  thumbnail_base64: thumb.body.toString("base64"),
}));
process.exit(0);
