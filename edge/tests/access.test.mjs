// End-to-end: access to sensitive data at the edge, asked for, approved, expired and revoked
// through a real control plane. The chain, all real but the Cloudflare API:
//   admin API (the admin Lambda's router, aws/examples/control_plane_http.rs) → DynamoDB
//   (moto) → KvPublisher → Cloudflare KV bulk-write stand-in (cloudflare.mjs) → Miniflare's
//   Workers KV → the built Worker under workerd → the Cache API → an upstream on 127.0.0.1.
// Every KV record the Worker reads here (routes, keys, identities with their class grants)
// was written by the control plane's own publisher; nothing is seeded by hand. The Worker
// re-reads KV after GATEHOUSE_READ_CACHE_SECS (1 s here, 30 s by default).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startUpstream, workerOptions } from "./servers.mjs";
import { startCloudflareApi } from "./cloudflare.mjs";
import { startMoto, startControlPlane } from "./control_plane.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const READ_CACHE_MS = 1_000;
const CONTROL_SECRET = "control-secret-0123456789";
const cloudflare = { accountId: "acc_edge", namespaceId: "ns_gatehouse", token: "cf-api-token" };
let mf, upstream, moto, cfApi, cp, kv;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  upstream = await startUpstream();
  mf = new Miniflare(workerOptions({
      GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789",
      GATEHOUSE_CONTROL_SECRET: CONTROL_SECRET,
      GATEHOUSE_USAGE_FLUSH_SECS: "300",
      GATEHOUSE_PORTAL_ORIGIN: "https://portal.example.com",
      GATEHOUSE_READ_CACHE_SECS: String(READ_CACHE_MS / 1000),
    }));
  const edgeUrl = (await mf.ready).origin;
  kv = await mf.getKVNamespace("GATEHOUSE_KV");
  cfApi = await startCloudflareApi({ kv, ...cloudflare });
  moto = await startMoto();
  cp = await startControlPlane({
    dynamodb: moto.endpoint,
    cloudflare: { ...cloudflare, apiBase: cfApi.apiBase },
    edgeUrl,
    adminToken: "gh_admin_edge_test_token",
    controlSecret: CONTROL_SECRET,
  });
});

after(async () => {
  cp?.stop();
  moto?.stop();
  cfApi?.close();
  await mf?.dispose();
  upstream?.close();
});

async function call(p, key) {
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { headers: key ? { "x-api-key": key } : {} });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

const hit = (reply) => /hit/.test(reply.headers.get("cache-status") ?? "");

/** developer → app → subscription to a plan of its own with `classes` → key, all published. */
async function onboard(apiId, email, classes) {
  const product = await cp.admin("POST", "/v1/products", { name: `p-${email}`, items: [{ api_id: apiId }] });
  const plan = await cp.admin("POST", "/v1/plans", { name: `plan-${email}`, product_id: product.id, classes });
  const developer = await cp.admin("POST", "/v1/developers", { email, name: email });
  const app = await cp.admin("POST", "/v1/apps", { developer_id: developer.id, name: "app" });
  await cp.admin("POST", `/v1/apps/${app.id}/subscriptions`, { product_id: product.id, plan_id: plan.id });
  const key = await cp.admin("POST", `/v1/apps/${app.id}/keys`, { name: "k" });
  return { appId: app.id, key: key.secret };
}

/** The audit entries naming `target`, newest first: [action, actor, role, from, targets, reason]. */
async function auditAbout(target) {
  const page = await cp.admin("GET", `/v1/audit?target=${target}`);
  return page.items.map((e) => [e.action, e.actor, e.role, e.from, e.targets, e.reason ?? null]);
}

const ANN = { id: "1", name: "Ann", email: "ann@example.com", card: "4111111111111111",
  referrals: [{ id: "2", name: "Bob", email: "bob@example.com" }] };
const GRANT_MS = 6_000;

test("a grant approved through the control plane shows the field at the edge and ends there by the Worker's clock", async () => {
  const api = await cp.admin("POST", "/v1/apis", { openapi: seed.crm.openapi, base_path: "/crm",
    upstream: { url: `${upstream.url}/crm` }, cache: { enabled: true, public: true } });
  await cp.admin("POST", `/v1/apis/${api.id}/lifecycle`, { action: "publish" });
  const holder = await onboard(api.id, "holder@example.com", ["pii", "financial"]);
  const asker = await onboard(api.id, "asker@example.com", []);
  const admin = (await cp.admin("GET", "/v1/audit?action=api.create")).items[0].actor;
  assert.match(admin, /^admin:[0-9a-f]{8}$/, "a configured token is named by its hash, never itself");

  // Without the grant: filtered. The upstream's whole answer is in the edge's cache...
  const plain = await call("/crm/customers/1", asker.key);
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.json.email, undefined);
  assert.equal(plain.headers.get("gatehouse-withheld"), "pii, financial");
  assert.equal(plain.json.card, "************1111");
  // ...and the same entry reaches a holder whole.
  const whole = await call("/crm/customers/1", holder.key);
  assert.ok(hit(whole), whole.headers.get("cache-status"));
  assert.deepEqual(whole.json, ANN);
  assert.equal(upstream.hits["/crm/customers/1"], 1);

  // The developer asks for pii and financial; financial is denied, pii approved for seconds.
  const ask = (cls, reason) => cp.admin("POST", `/v1/apps/${asker.appId}/access-requests`,
    { api_id: api.id, class: cls, reason, wanted_days: 1 });
  const pii = (await ask("pii", "Support answers one ticket by email.")).id;
  const financial = (await ask("financial", "Refunds.")).id;
  await cp.admin("POST", `/v1/access-requests/${financial}/deny`, { reason: "Refunds go through the billing API." });
  const expiresAt = Date.now() + GRANT_MS;
  const approved = await cp.admin("POST", `/v1/access-requests/${pii}/approve`,
    { expires_at: new Date(expiresAt).toISOString() });
  assert.equal(Date.parse(approved.expires_at), expiresAt);

  // The control plane published the app's identity with the grant and its expiry.
  const published = cfApi.writes.filter((w) => w.key === `identity:${asker.appId}`).at(-1);
  const granted = JSON.parse(published.value).classes;
  assert.deepEqual(granted.map(({ api_id, class: cls }) => [api_id, cls]), [[api.id, "pii"]]);
  assert.equal(Date.parse(granted[0].expires_at), expiresAt);
  const writesAtApproval = cfApi.writes.length;

  // Once the Worker's cached copy of the identity is older than its read bound: the field,
  // from the same cached entry, the card still masked.
  await sleep(READ_CACHE_MS + 200);
  const shown = await call("/crm/customers/1", asker.key);
  assert.ok(Date.now() < expiresAt, "the machine took the whole grant to get here; GRANT_MS is too short");
  assert.ok(hit(shown), shown.headers.get("cache-status"));
  assert.equal(shown.json.email, "ann@example.com");
  assert.equal(shown.json.card, "************1111");
  assert.equal(shown.headers.get("gatehouse-withheld"), "financial");

  // Past the expiry, with nothing published since: the Worker's own clock ends the grant
  // that KV still lists, and the former holder gets the filtered body from the cache entry.
  await sleep(expiresAt - Date.now() + 300);
  const ended = await call("/crm/customers/1", asker.key);
  assert.ok(hit(ended), ended.headers.get("cache-status"));
  assert.equal(ended.json.email, undefined, "the grant ended at its expiry");
  assert.deepEqual(ended.json.referrals, [{ id: "2", name: "Bob" }]);
  assert.equal(ended.headers.get("gatehouse-withheld"), "pii, financial");
  assert.deepEqual((await call("/crm/customers/1", holder.key)).json, ANN, "the plan's holder still sees all");
  assert.equal(upstream.hits["/crm/customers/1"], 1, "every answer came from the one cached entry");
  assert.equal(cfApi.writes.length, writesAtApproval, "nothing was published at the expiry");
  const inKv = JSON.parse(await kv.get(`identity:${asker.appId}`));
  assert.deepEqual(inKv.classes.map((c) => c.class), ["pii"], "KV still lists the lapsed grant");
  assert.equal((await cp.admin("GET", `/v1/access-requests/${pii}`)).status, "expired");

  // Who did each step, to which request, and why, read back from the control plane's store.
  assert.deepEqual(await auditAbout(pii), [
    ["access_request.approve", admin, "owner", "127.0.0.1", [pii], null],
    ["access_request.create", admin, "owner", "127.0.0.1", [pii], "Support answers one ticket by email."],
  ]);
  assert.deepEqual(await auditAbout(financial), [
    ["access_request.deny", admin, "owner", "127.0.0.1", [financial], "Refunds go through the billing API."],
    ["access_request.create", admin, "owner", "127.0.0.1", [financial], "Refunds."],
  ]);

  // Asked again and approved for a day, then revoked: the revocation reaches the edge as any
  // identity change does, through KV within the Worker's read bound.
  const again = (await ask("pii", "A second ticket.")).id;
  await cp.admin("POST", `/v1/access-requests/${again}/approve`, { days: 1 });
  await sleep(READ_CACHE_MS + 200);
  assert.equal((await call("/crm/customers/1", asker.key)).json.email, "ann@example.com");
  await cp.admin("POST", `/v1/access-requests/${again}/revoke`, { reason: "Ticket closed." });
  const published2 = cfApi.writes.filter((w) => w.key === `identity:${asker.appId}`).at(-1);
  assert.deepEqual(JSON.parse(published2.value).classes ?? [], [], "the revocation republished the identity");
  await sleep(READ_CACHE_MS + 200);
  const revoked = await call("/crm/customers/1", asker.key);
  assert.equal(revoked.json.email, undefined, "a revoked grant is gone at the edge");
  assert.equal(upstream.hits["/crm/customers/1"], 1);
  assert.deepEqual((await auditAbout(again))[0], ["access_request.revoke", admin, "owner", "127.0.0.1", [again], "Ticket closed."]);
});
