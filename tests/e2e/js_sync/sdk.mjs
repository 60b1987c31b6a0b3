// matrix-js-sdk for the scripts of this folder: Node 20 made to fit, the SDK's logging quiet
// (their stdout is the JSON line the Python test reads). `const { sdk, print } = await import(...)`.

// matrix-js-sdk 43 targets Node 22; Node 20 lacks only this.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
export const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("error");
for (const name of ["log", "info", "debug"]) console[name] = () => {};
export const print = (line) => process.stdout.write(line + "\n");
