#!/usr/bin/env node
// The container image's HEALTHCHECK (Dockerfile): asks the relay's /healthz on SIGOPS_HTTP and
// exits 0 when it answers 200, 1 otherwise. The image has no curl; node is there anyway.
const http = process.env.SIGOPS_HTTP;
if (!http) {
  console.error('SIGOPS_HTTP is not set: the relay serves no /healthz');
  process.exit(1);
}
const i = http.lastIndexOf(':');
let host = http.slice(0, i).replace(/^\[|\]$/g, '');
const port = http.slice(i + 1);
// a listener on every address answers on loopback
if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (res.status !== 200) {
    console.error(`${url} answered ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
