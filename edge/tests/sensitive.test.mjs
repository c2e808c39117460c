// End-to-end: sensitive data (x-gatehouse-sensitivity) at the edge — the built Worker under
// workerd, api_crm's operations compiled by the core's importer (edge/examples/seed_parts/
// crm.rs), identities holding class grants, the Cache API and a real upstream on 127.0.0.1.
// Its own Miniflare instance, so its calls never mix with edge.test.mjs's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startUpstream, workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const key = (who) => seed.secrets[who].secret;
let mf, upstream;

before(async () => {
  upstream = await startUpstream();
  mf = new Miniflare(workerOptions({
      GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789",
      GATEHOUSE_USAGE_FLUSH_SECS: "300",
      GATEHOUSE_PORTAL_ORIGIN: "https://portal.example.com",
    }));
  await mf.ready;
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", upstream.url));
});

after(async () => {
  await mf?.dispose();
  upstream?.close();
});

async function call(p, who) {
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { headers: who ? { "x-api-key": key(who) } : {} });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

const ANN = { id: "1", name: "Ann", email: "ann@example.com", card: "4111111111111111",
  referrals: [{ id: "2", name: "Bob", email: "bob@example.com" }] };

test("a caller without the grant gets the filtered body from the same cache entry a holder filled", async () => {
  const full = await call("/crm/customers/1", "crmholder");
  assert.equal(full.status, 200, full.text);
  assert.deepEqual(full.json, ANN);
  assert.equal(full.headers.get("gatehouse-withheld"), null);
  assert.equal(upstream.hits["/crm/customers/1"], 1);

  const plain = await call("/crm/customers/1", "crmplain");
  assert.equal(plain.status, 200, plain.text);
  assert.match(plain.headers.get("cache-status") ?? "", /hit/);
  assert.deepEqual(plain.json, { id: "1", name: "Ann", card: "************1111", referrals: [{ id: "2", name: "Bob" }] });
  assert.equal(plain.headers.get("gatehouse-withheld"), "pii, financial");
  assert.equal(plain.headers.get("etag"), 'W/"v1-withheld-pii-financial"');
  assert.equal(upstream.hits["/crm/customers/1"], 1, "served from the cache, filtered on the way out");

  // The holder still sees everything afterwards: no filtered copy was stored.
  assert.deepEqual((await call("/crm/customers/1", "crmholder")).json, ANN);
});

test("a grant past its expiry is no grant", async () => {
  const expired = await call("/crm/customers/1", "crmexpired");
  assert.equal(expired.status, 200, expired.text);
  assert.equal(expired.json.email, undefined);
  assert.equal(expired.headers.get("gatehouse-withheld"), "pii, financial");
});

test("a sensitive parameter without the grant is refused with the class and where to ask for it", async () => {
  const before = upstream.hits["/crm/customers/1"] ?? 0;
  const refused = await call("/crm/customers/1?ssn=123-45-6789", "crmplain");
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.headers.get("content-type"), "application/problem+json");
  assert.equal(refused.json.type, "https://gatehouse.dev/problems/sensitive-data");
  assert.equal(refused.json.class, "pii");
  assert.equal(refused.json.request_access, "https://portal.example.com/apis/api_crm/access?class=pii");
  assert.equal(upstream.hits["/crm/customers/1"] ?? 0, before, "nothing reached the upstream");
  assert.equal((await call("/crm/customers/1?ssn=123-45-6789", "crmholder")).status, 200);
});

test("a non-JSON answer with data to withhold is refused, never passed through", async () => {
  const csv = await call("/crm/export", "crmplain");
  assert.equal(csv.status, 502, csv.text);
  assert.doesNotMatch(csv.text, /ann@example\.com/);
  assert.equal((await call("/crm/export", "crmholder")).status, 200);
});
