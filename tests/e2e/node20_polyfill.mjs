// matrix-js-sdk 43 targets Node 22; this machine has Node 20, which lacks only this.
// Import it before matrix-js-sdk (which is then imported dynamically).
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
