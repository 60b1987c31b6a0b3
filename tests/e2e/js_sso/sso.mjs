// matrix-js-sdk's SSO login helpers against the homeserver (tests/e2e/test_sso_gunicorn.py).
// Usage: node sso.mjs url BASE_URL REDIRECT_URL   -> {"url", "identity_providers"}
//        node sso.mjs login BASE_URL LOGIN_TOKEN  -> {"user_id", "whoami"}
// Prints one JSON line with what it saw.

import "../node20_polyfill.mjs";

const sdk = await import("matrix-js-sdk");

const [command, base, argument] = process.argv.slice(2);
const client = sdk.createClient({ baseUrl: base });

if (command === "url") {
  const flows = await client.loginFlows();
  const sso = flows.flows.find((flow) => flow.type === "m.login.sso");
  const idp = sso.identity_providers[0];
  const url = client.getSsoLoginUrl(argument, "sso", idp.id);
  console.log(JSON.stringify({ url, identity_providers: sso.identity_providers }));
} else if (command === "login") {
  const response = await client.loginWithToken(argument);
  const whoami = await client.whoami();
  console.log(JSON.stringify({ user_id: response.user_id, whoami: whoami.user_id }));
} else {
  throw new Error(`unknown command ${command}`);
}
