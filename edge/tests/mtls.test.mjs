// End-to-end: client certificates (mTLS) at the edge — the built Worker under workerd, with
// the verification result Cloudflare would put in `request.cf.tlsClientAuth` given per
// request (Miniflare's dispatchFetch `cf`), and a real upstream on 127.0.0.1. The registered
// subject calls as its app; an unverified certificate, another subject or none is refused.
// Its own Miniflare instance, so its calls never mix with edge.test.mjs's usage counts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startUpstream, workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const SUBJECT = seed.mtls.subject;
let mf, upstream;

before(async () => {
  upstream = await startUpstream();
  mf = new Miniflare(workerOptions({ GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" }));
  await mf.ready;
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", upstream.url));
});

after(async () => {
  await mf?.dispose();
  upstream?.close();
});

/** `tlsClientAuth` as Cloudflare fills it (only the fields the Worker reads, plus the rest empty). */
function tlsClientAuth(subject, verified = "SUCCESS") {
  return {
    certPresented: subject ? "1" : "0",
    certVerified: subject ? verified : "NONE",
    certRevoked: "0",
    certSubjectDNRFC2253: subject ?? "",
    certIssuerDNRFC2253: subject ? "CN=partners CA" : "",
    certFingerprintSHA256: "",
  };
}

async function call(p, subject, { verified, key } = {}) {
  const headers = key ? { "x-api-key": key } : {};
  const cf = { tlsClientAuth: tlsClientAuth(subject, verified) };
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { headers, cf });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

test("the registered certificate subject calls as its app", async () => {
  const r = await call("/mtls/orders", SUBJECT);
  assert.equal(r.status, 200, r.text);
  const identity = upstream.seen.at(-1).headers["gatehouse-identity"];
  assert.match(identity, /^app=app_partner;dev=dev_partner;key=key_partner_cert;/);
});

test("an unverified certificate, another subject or none is refused, and the refusal says why", async () => {
  const seenBefore = upstream.seen.length;
  const unverified = await call("/mtls/orders", SUBJECT, { verified: "FAILED:self signed certificate" });
  assert.equal(unverified.status, 401, "a certificate Cloudflare could not verify is no certificate");
  assert.match(unverified.json.detail, /client certificate/);
  const stranger = await call("/mtls/orders", "CN=billing,O=Partner B");
  assert.equal(stranger.status, 403);
  assert.ok(stranger.json.detail.includes('"CN=billing,O=Partner B"'), stranger.json.detail);
  assert.equal((await call("/mtls/orders", null)).status, 401);
  assert.equal(upstream.seen.length, seenBefore, "nothing refused reached the upstream");
});

test("an operation that takes a certificate or a key takes either", async () => {
  assert.equal((await call("/mtls/either", SUBJECT)).status, 200);
  const key = seed.secrets.partner.secret;
  assert.equal((await call("/mtls/either", null, { key })).status, 200);
  assert.equal((await call("/mtls/orders", null, { key })).status, 401, "a key is not a certificate");
});
