// End-to-end: the built Worker (edge/build) under workerd via Miniflare, with seeded Workers
// KV, real Durable Objects, the Cache API, a real upstream and a real ingest server on
// 127.0.0.1. Each test is named for the guarantee it protects. Run by scripts/test-edge.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { EVENTS, EVENT_GAP_MS, sign, startHostile, startIngest, startUpstream, workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const SECRETS = {
  GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789",
  GATEHOUSE_INGEST_SECRET: "ingest-secret-0123456789",
  GATEHOUSE_CONTROL_SECRET: "control-secret-0123456789",
};
const PORTAL = "http://127.0.0.1:8081"; // the developer portal's origin (GATEHOUSE_PORTAL_ORIGIN)
const key = (who) => seed.secrets[who].secret;
const timings = {};
let mf, base, upstream, ingest, hostile;

before(async () => {
  upstream = await startUpstream();
  hostile = await startHostile();
  ingest = await startIngest(SECRETS.GATEHOUSE_INGEST_SECRET);
  const started = performance.now();
  mf = new Miniflare(options());
  base = String(await mf.ready).replace(/\/$/, "");
  await seedKv(mf);
  timings.workerd_start_and_seed_ms = Math.round(performance.now() - started);
});

after(async () => {
  await mf?.dispose();
  upstream?.close();
  hostile?.close();
  ingest?.close();
  console.log(`edge timings: ${JSON.stringify(timings)}`);
});

function options() {
  return workerOptions({
      ...SECRETS,
      GATEHOUSE_INGEST_URL: ingest.url,
      GATEHOUSE_USAGE_FLUSH_SECS: "1",
      GATEHOUSE_SERVER_TIMING: "1",
      GATEHOUSE_PORTAL_ORIGIN: PORTAL,
      // Test-only, read-only inspection route (docs/edge.md); never set in wrangler.toml.
      GATEHOUSE_TEST_HOOKS: "1",
    });
}

async function seedKv(instance) {
  const kv = await instance.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", upstream.url).replaceAll("__HOSTILE__", hostile.url));
}

let gatewayCalls = 0; // requests the main instance's pipeline handled: each is one usage event

async function call(p, who, extra = {}) {
  gatewayCalls += 1;
  const headers = { ...extra };
  if (who) headers["x-api-key"] = key(who);
  const res = await fetch(base + p, { headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json };
}

function assertProblem(r, status, slug) {
  assert.equal(r.status, status);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.ok(r.json.type.endsWith(slug), `${r.json.type} should end with ${slug}`);
}

/** CPU time (ms) used so far by the workerd processes Miniflare started (our children). */
function workerdCpuMs() {
  let total = null;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { continue; }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm === "workerd" && Number(rest[1]) === process.pid) {
      total = (total ?? 0) + ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime + stime, 100 ticks/s
    }
  }
  return total;
}

/** workerd CPU per request (ms) over `n` sequential calls of `once`, or null off Linux. */
async function cpuPerRequest(n, once) {
  const before = workerdCpuMs();
  for (let i = 0; i < n; i++) await once();
  const after = workerdCpuMs();
  return before === null ? null : Number(((after - before) / n).toFixed(3));
}

// A JavaScript Worker that only answers from the Cache API: what the local Cache API itself
// costs, to subtract from the Rust Worker's cache-hit path.
const CACHE_PROBE = `export default { async fetch() {
  const url = "https://probe.invalid/x", cache = caches.default;
  let hit = await cache.match(url);
  if (!hit) { await cache.put(url, new Response("x".repeat(64), { headers: { "cache-control": "public, max-age=600" } })); hit = await cache.match(url); }
  return new Response(await hit.arrayBuffer());
} }`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test("a valid key passes and the upstream sees the signed identity, never the key", async () => {
  const r = await call("/pets/pets/1", "bob");
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ok: true, path: "/pets/1" });
  const seen = upstream.seen.at(-1).headers;
  assert.equal(seen["x-api-key"], undefined);
  assert.ok(seen["gatehouse-identity"].includes("app_bob"));
  assert.ok(seen["gatehouse-signature"]);
});

test("refusals are problem+json: missing, malformed, unknown key, no entitlement", async () => {
  assertProblem(await call("/pets/pets/1"), 401, "missing-credential");
  assertProblem(await call("/pets/pets/1", null, { "x-api-key": "gh_live_typo" }), 401, "malformed-key");
  assertProblem(await call("/pets/pets/1", "unknown"), 401, "invalid-key");
  assertProblem(await call("/pets/pets/1", "nogrant"), 403, "forbidden");
  assertProblem(await call("/nowhere", "bob"), 404, "no-route");
  assert.equal((await call("/pets/health")).status, 200, "a public operation needs no key");
});

test("burst limits answer with RateLimit headers and 429 Retry-After", async () => {
  const first = await call("/pets/rate", "rate");
  assert.equal(first.status, 200);
  assert.match(first.headers.get("ratelimit-policy"), /burst/);
  assert.match(first.headers.get("ratelimit"), /burst/);
  let refused;
  for (let i = 0; i < 5 && !refused; i++) {
    const r = await call("/pets/rate", "rate");
    if (r.status === 429) refused = r;
  }
  assert.ok(refused, "the burst of 3 is exhausted within 6 calls");
  assertProblem(refused, 429, "rate-limited");
  assert.ok(Number(refused.headers.get("retry-after")) > 0);
});

const sleep = (ms) => new Promise((s) => setTimeout(s, ms));

/** What a limiter object holds (test hook): `{counters: [{counter, expires_at}], in_memory, alarm_at}`. */
async function limiterContents(object, at = base) {
  const res = await fetch(`${at}/_gatehouse/test/limiter/${object}`);
  assert.equal(res.status, 200);
  return res.json();
}

/** Three calls against `roll`'s burst of 2 a second: 200, 200, 429; checks every header. */
async function exhaustRollBurst() {
  const first = await call("/pets/rate", "roll");
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("ratelimit-policy"), '"burst";q=2;w=2');
  assert.equal(first.headers.get("ratelimit"), '"burst";r=1;t=1', "a fresh bucket: one left, full again in 1 s");
  assert.equal(first.headers.get("retry-after"), null);
  const second = await call("/pets/rate", "roll");
  assert.equal(second.status, 200);
  assert.match(second.headers.get("ratelimit"), /^"burst";r=0;t=2$/);
  const third = await call("/pets/rate", "roll");
  assertProblem(third, 429, "rate-limited");
  assert.equal(third.headers.get("retry-after"), "1", "one more call fits 1 s after a fresh burst");
  assert.match(third.headers.get("ratelimit"), /^"burst";r=0;t=1$/);
  return performance.now();
}

test("the limiter object's alarm fires and rolls the window: counters deleted, the next call starts fresh", async () => {
  const object = "key:key_roll";
  assert.deepEqual(await limiterContents(object), { counters: [], in_memory: 0, alarm_at: null });
  await exhaustRollBurst();
  const held = await limiterContents(object);
  assert.equal(held.counters.length, 1, "the object holds the burst counter");
  assert.equal(held.counters[0].counter, "key:key_roll:burst");
  assert.equal(held.in_memory, 1);
  const expiresAt = held.counters[0].expires_at;
  // The first call set the alarm for its own expiry (1 s); the second pushed the expiry to 2 s,
  // so the alarm must find the counter still live, reschedule itself, and fire again.
  assert.ok(held.alarm_at !== null && held.alarm_at < expiresAt, `alarm ${held.alarm_at} due before ${expiresAt}`);
  assert.ok(held.alarm_at - Date.now() < 60_000, "an absolute time, not an epoch taken as an offset");
  assert.ok(expiresAt - Date.now() <= 2100, "the bucket drains within 2 s");
  // Poll (bounded: 5 s) until the alarm has deleted the counter.
  const started = performance.now();
  let now = held;
  while ((now.counters.length > 0 || now.alarm_at !== null) && performance.now() - started < 5000) {
    await sleep(20);
    now = await limiterContents(object);
  }
  const rolledAt = Date.now();
  assert.deepEqual(now, { counters: [], in_memory: 0, alarm_at: null }, "the alarm deleted the drained counter");
  timings.limiter_alarm_delay_ms = rolledAt - expiresAt; // upper bound: includes one poll (≤ 20 ms + a request)
  assert.ok(rolledAt >= expiresAt, "never deleted before the bucket drained");
  // A fresh window: the same headers as the very first burst, and a new counter and alarm.
  await exhaustRollBurst();
  const again = await limiterContents(object);
  assert.equal(again.counters.length, 1);
  assert.ok(again.counters[0].expires_at > expiresAt && again.alarm_at !== null);
});

test("the test hooks exist only when GATEHOUSE_TEST_HOOKS=1 (never in wrangler.toml)", async () => {
  const wrangler = readFileSync(path.join(edge, "../wrangler.toml"), "utf8");
  assert.doesNotMatch(wrangler, /^\s*GATEHOUSE_TEST_HOOKS\s*=/m);
  const opts = options();
  delete opts.bindings.GATEHOUSE_TEST_HOOKS;
  delete opts.bindings.GATEHOUSE_INGEST_URL; // its usage must not mix with the main instance's
  const plain = new Miniflare(opts);
  try {
    const url = String(await plain.ready).replace(/\/$/, "");
    const res = await fetch(`${url}/_gatehouse/test/limiter/key:key_roll`);
    assertProblem({ status: res.status, headers: res.headers, json: await res.json() }, 404, "no-route");
  } finally {
    await plain.dispose();
  }
});

test("a quota is exact under 32 concurrent requests: exactly 10 admitted", async () => {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 32 }, () => call("/pets/quota", "quota")));
  timings.quota_32_concurrent_ms = Math.round(performance.now() - started);
  const ok = results.filter((r) => r.status === 200).length;
  const refused = results.filter((r) => r.status === 429);
  assert.equal(ok, 10);
  assert.equal(refused.length, 22);
  for (const r of refused) assertProblem(r, 429, "quota-exceeded");
  assert.equal(upstream.hits["/quota"], 10, "refused calls never reach the upstream");
});

test("a group quota is exact across its members: 32 concurrent calls from two apps, 5 admitted", async () => {
  const who = (i) => (i % 2 ? "gold1" : "gold2");
  const results = await Promise.all(Array.from({ length: 32 }, (_, i) => call("/pets/pets/7", who(i))));
  assert.equal(results.filter((r) => r.status === 200).length, 5);
  for (const r of results.filter((r) => r.status !== 200)) assertProblem(r, 429, "quota-exceeded");
});

test("an organisation's quota is exact across its apps: 32 concurrent calls from two apps, 4 admitted", async () => {
  const who = (i) => (i % 2 ? "acme1" : "acme2");
  const results = await Promise.all(Array.from({ length: 32 }, (_, i) => call("/pets/pets/8", who(i))));
  assert.equal(results.filter((r) => r.status === 200).length, 4);
  for (const r of results.filter((r) => r.status !== 200)) assertProblem(r, 429, "quota-exceeded");
});

test("a cacheable response is a miss, then a hit, with Cache-Status", async () => {
  const miss = await call("/pets/catalog", "bob");
  assert.equal(miss.status, 200);
  assert.match(miss.headers.get("cache-status"), /fwd=/);
  const hit = await call("/pets/catalog", "bob");
  assert.match(hit.headers.get("cache-status"), /; hit/);
  assert.deepEqual(hit.json, miss.json);
  assert.equal(upstream.hits["/catalog"], 1);
  // The cached-key, cache-hit path: client-observed latency bounds the Worker's CPU per request.
  const lat = [];
  timings.cache_hit_workerd_cpu_ms_per_req = await cpuPerRequest(200, async () => {
    const t = performance.now();
    const r = await call("/pets/catalog", "bob");
    lat.push(performance.now() - t);
    assert.match(r.headers.get("cache-status"), /; hit/);
  });
  timings.cache_hit_p50_ms = Number(median(lat).toFixed(2));
  const probe = new Miniflare({ modules: true, script: CACHE_PROBE, compatibilityDate: "2026-04-01", host: "127.0.0.1", port: 0, cf: false });
  try {
    const url = String(await probe.ready);
    timings.js_cache_match_workerd_cpu_ms_per_req = await cpuPerRequest(200, async () => {
      await (await fetch(url)).text();
    });
  } finally {
    await probe.dispose();
  }
  timings.worker_cpu_estimate_ms_per_req = Number(
    (timings.cache_hit_workerd_cpu_ms_per_req - timings.js_cache_match_workerd_cpu_ms_per_req).toFixed(3),
  );
});

test("a private response never crosses identities", async () => {
  // An authenticated, cacheable response is keyed by identity: alice never gets bob's copy.
  const bobs = await call("/pets/catalog", "bob");
  assert.match(bobs.headers.get("cache-status"), /; hit/);
  const alices = await call("/pets/catalog", "alice");
  assert.match(alices.headers.get("cache-status"), /fwd=uri-miss/, "alice must not hit bob's entry");
  assert.notDeepEqual(alices.json, bobs.json);
  assert.match((await call("/pets/catalog", "alice")).headers.get("cache-status"), /; hit/);
  // `private` responses are never stored by the shared cache at all.
  for (const who of ["alice", "alice", "bob"]) {
    const r = await call("/pets/secret", who);
    assert.ok(r.json.caller.includes(`app_${who}`));
    assert.doesNotMatch(r.headers.get("cache-status"), /; hit/);
  }
  assert.equal(upstream.hits["/secret"], 3);
  const hops = [];
  for (let i = 0; i < 20; i++) {
    const r = await call("/pets/secret", "alice");
    const m = /limiter;dur=([\d.]+)/.exec(r.headers.get("server-timing") || "");
    if (m) hops.push(Number(m[1]));
  }
  assert.ok(hops.length > 0, "alice's quota goes through her limiter object");
  timings.limiter_hop_p50_ms = median(hops);
});

test("a deprecated API says so (Deprecation, Sunset, Link); a retired one is 410", async () => {
  const old = await call("/old/hello", "alice");
  assert.equal(old.status, 200);
  assert.ok(old.headers.get("deprecation"));
  assert.match(old.headers.get("sunset"), /2027/);
  assert.match(old.headers.get("link"), /successor-version/);
  const gone = await call("/gone/hello", "alice");
  assertProblem(gone, 410, "api-retired");
});

test("without its limiter objects the edge fails quotas closed and burst limits as their policy says", async () => {
  // A second Worker instance whose LIMITER binding is missing: every limiter call fails.
  const opts = options();
  delete opts.bindings.GATEHOUSE_INGEST_URL; // its usage must not mix with the main instance's
  const broken = new Miniflare({ ...opts, durableObjects: { REVOCATIONS: { className: "Revocations", useSQLite: true } } });
  try {
    const url = String(await broken.ready).replace(/\/$/, "");
    await seedKv(broken);
    const get = async (who) => {
      const res = await fetch(`${url}/pets/pets/1`, { headers: { "x-api-key": key(who) } });
      return { status: res.status, headers: res.headers, json: await res.json() };
    };
    assertProblem(await get("quota"), 503, "service-unavailable");
    assertProblem(await get("rate"), 503, "service-unavailable");
    assert.equal((await get("openburst")).status, 200, "a fail-open burst limit lets the call through");
    assert.equal((await get("bob")).status, 200, "callers without limits never touch the limiter");
  } finally {
    await broken.dispose();
  }
});

test("a revoked key is refused within the published bound although KV still says active", async () => {
  assert.equal((await call("/pets/pets/1", "revoke")).status, 200, "cached in the isolate as active");
  const notice = JSON.stringify({
    notice_id: "ntc_edge_1",
    key_hashes: [seed.secrets.revoke.hash],
    at: new Date().toISOString(),
    keep_until: new Date(Date.now() + 3600_000).toISOString(),
  });
  const post = (headers) => fetch(`${base}/_gatehouse/revocations`, { method: "POST", headers, body: notice });
  const unsigned = await post({ "content-type": "application/json" });
  assert.equal(unsigned.status, 401);
  await unsigned.text();
  const forged = await post({ "gatehouse-signature": sign("not-the-control-secret", notice) });
  assert.equal(forged.status, 401);
  await forged.text();
  const started = performance.now();
  const accepted = await post({ "gatehouse-signature": sign(SECRETS.GATEHOUSE_CONTROL_SECRET, notice) });
  assert.equal(accepted.status, 202);
  await accepted.text();
  // Bound: every request that starts 2 s after the notice was accepted is refused. Polling,
  // the first refused request starts at most one poll (previous call + 50 ms) after that.
  let r, requestStart, previous = 0;
  while (performance.now() - started < 6000) {
    requestStart = performance.now();
    r = await call("/pets/pets/1", "revoke");
    if (r.status === 401) break;
    previous = performance.now() - requestStart;
    await new Promise((s) => setTimeout(s, 50));
  }
  const elapsed = performance.now() - started;
  timings.revocation_visible_ms = Math.round(elapsed);
  assertProblem(r, 401, "revoked-key");
  assert.ok(requestStart - started <= 2000 + previous + 150, `first refused call started ${requestStart - started} ms after the notice`);
  assert.ok(elapsed < 5000, `refused after ${elapsed} ms; the published bound is 5 s`);
  assert.equal((await call("/pets/pets/1", "bob")).status, 200, "other keys are unaffected");
});

const postPurge = (body, headers) => fetch(`${base}/_gatehouse/purges`, { method: "POST", headers, body });
const signedPurge = async (notice_id, selector) => {
  const body = JSON.stringify({ notice_id, selector, at: new Date().toISOString() });
  const res = await postPurge(body, { "gatehouse-signature": sign(SECRETS.GATEHOUSE_CONTROL_SECRET, body) });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { applied: true });
  return performance.now();
};
const cacheState = async (p) => {
  const status = (await call(p, "bob")).headers.get("cache-status");
  return /; hit/.test(status) ? "hit" : /fwd=/.test(status) ? "miss" : status;
};

/** Polls `p` until it misses; returns when the first missing request started (ms after `since`). */
async function firstMiss(p, since) {
  let previous = 0;
  while (performance.now() - since < 6000) {
    const requestStart = performance.now();
    if ((await cacheState(p)) === "miss") return { startedAfter: requestStart - since, previous };
    previous = performance.now() - requestStart;
    await new Promise((s) => setTimeout(s, 50));
  }
  assert.fail(`${p} was still served from the cache 6 s after the purge`);
}

test("an unsigned or forged purge is refused with a 401 problem", async () => {
  const body = JSON.stringify({ notice_id: "prg_bad", selector: { by: "api", api_id: "api_pets" }, at: new Date().toISOString() });
  for (const headers of [{ "content-type": "application/json" }, { "gatehouse-signature": sign("not-the-control-secret", body) }]) {
    const res = await postPurge(body, headers);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.ok((await res.json()).type.endsWith("unauthorized"));
  }
  const malformed = JSON.stringify({ notice_id: "prg_bad", at: new Date().toISOString() });
  const res = await postPurge(malformed, { "gatehouse-signature": sign(SECRETS.GATEHOUSE_CONTROL_SECRET, malformed) });
  assert.equal(res.status, 400);
  await res.text();
});

test("a signed purge by API turns cache hits into misses within the published bound", async () => {
  assert.equal(await cacheState("/pets/tagged/a1"), "miss");
  assert.equal(await cacheState("/pets/tagged/a1"), "hit");
  const started = await signedPurge("prg_edge_api", { by: "api", api_id: "api_pets" });
  const { startedAfter, previous } = await firstMiss("/pets/tagged/a1", started);
  timings.purge_visible_ms = Math.round(startedAfter);
  // Bound: every request that starts 2 s after the purge was accepted misses.
  assert.ok(startedAfter <= 2000 + previous + 150, `first miss started ${startedAfter} ms after the purge`);
  assert.equal(await cacheState("/pets/tagged/a1"), "hit", "the fresh response is cached again");
  // A redelivery of the same notice (a control-plane retry) is applied once.
  const again = JSON.stringify({ notice_id: "prg_edge_api", selector: { by: "api", api_id: "api_pets" }, at: new Date().toISOString() });
  const res = await postPurge(again, { "gatehouse-signature": sign(SECRETS.GATEHOUSE_CONTROL_SECRET, again) });
  assert.deepEqual(await res.json(), { applied: false });
});

test("a purge by tag misses only the entries that carry the tag", async () => {
  for (const p of ["/pets/tagged/t1", "/pets/tagged/t2"]) {
    assert.equal(await cacheState(p), "miss");
    assert.equal(await cacheState(p), "hit");
  }
  const hits = upstream.hits["/tagged/t2"];
  const started = await signedPurge("prg_edge_tag", { by: "tag", api_id: "api_pets", tag: "t1" });
  const { startedAfter, previous } = await firstMiss("/pets/tagged/t1", started);
  assert.ok(startedAfter <= 2000 + previous + 150, `first miss started ${startedAfter} ms after the purge`);
  timings.tag_purge_visible_ms = Math.round(startedAfter);
  assert.equal(await cacheState("/pets/tagged/t2"), "hit", "t2 carries another tag");
  assert.equal(upstream.hits["/tagged/t2"], hits);
});

test("the portal's CORS preflight is answered without a key and not counted; other origins get no CORS", async () => {
  const ask = { "access-control-request-method": "GET", "access-control-request-headers": "x-api-key" };
  for (let i = 0; i < 3; i++) {
    // Sent with fetch directly, not call(): a preflight is no gateway call, and the usage test
    // below fails if the edge counted it.
    const pre = await fetch(base + "/pets/pets/1", { method: "OPTIONS", headers: { origin: PORTAL, ...ask } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), PORTAL);
    assert.equal(pre.headers.get("access-control-allow-headers"), "x-api-key");
  }
  const ours = await call("/pets/pets/1", "bob", { origin: PORTAL });
  assert.equal(ours.headers.get("access-control-allow-origin"), PORTAL);
  assert.match(ours.headers.get("access-control-expose-headers"), /\bRateLimit\b.*\bRetry-After\b/);
  assert.match(ours.headers.get("vary") ?? "", /\bOrigin\b/);
  const refused = await call("/pets/pets/1", null, { origin: PORTAL });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("access-control-allow-origin"), PORTAL, "the console can read a refusal too");
  const foreign = await call("/pets/pets/1", "bob", { origin: "http://evil.example" });
  assert.deepEqual([...foreign.headers.keys()].filter((h) => h.startsWith("access-control-")), []);
});

// ---- RFC 9111 cases, the same as native/tests/cache_rfc9111.rs, under workerd. ----

/** A gateway request with any method and headers; `who` adds that caller's key. */
async function send(method, p, headers = {}, who) {
  gatewayCalls += 1;
  const h = { ...headers };
  if (who) h["x-api-key"] = key(who);
  const res = await fetch(base + p, { method, headers: h, body: method === "GET" || method === "HEAD" ? undefined : "abc" });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, text, json, cache: res.headers.get("cache-status") || "" };
}
const upstreamSaw = (p) => upstream.seen.filter((s) => s.path === p).length;

test("rfc9111 4.4: successful unsafe methods invalidate the URL, Location and Content-Location", async () => {
  for (const method of ["POST", "PUT", "DELETE"]) {
    for (const p of ["/rfc/inv", "/rfc/loc", "/rfc/cl"]) {
      await send("GET", p);
      assert.match((await send("GET", p)).cache, /; hit/, `${p} is cached before the ${method}`);
    }
    assert.equal((await send(method, "/rfc/inv")).status, 201);
    for (const p of ["/rfc/inv", "/rfc/loc", "/rfc/cl"]) {
      assert.match((await send("GET", p)).cache, /fwd=uri-miss/, `${method} must invalidate ${p}`);
    }
  }
  await send("GET", "/rfc/fail");
  assert.equal((await send("POST", "/rfc/fail")).status, 500);
  assert.match((await send("GET", "/rfc/fail")).cache, /; hit/, "a failed unsafe request invalidates nothing");
});

test("rfc9111 3.2: a 304 refresh never relabels the stored body", async () => {
  const first = await send("GET", "/rfc/etag");
  assert.equal(first.headers.get("etag"), '"v1"');
  await new Promise((s) => setTimeout(s, 1100)); // max-age=1 has passed
  const refreshed = await send("GET", "/rfc/etag");
  assert.equal(refreshed.cache, "Gatehouse; fwd=stale; fwd-status=304");
  const hit = await send("GET", "/rfc/etag");
  assert.match(hit.cache, /; hit/);
  for (const r of [refreshed, hit]) {
    assert.equal(r.text, "etag-0");
    assert.equal(r.headers.get("etag"), '"v1"', "the stored body's own validator");
    assert.equal(r.headers.get("content-encoding"), "identity", "the stored body's own coding");
    assert.equal(r.headers.get("x-refreshed"), "yes", "other fields are updated");
  }
});

test("rfc9111 5.1: an invalid or repeated Age is read strictly, as natively (Age: 7200, 0 is 7200)", async () => {
  for (const p of ["/rfc/age-two-lines", "/rfc/age-joined", "/rfc/age-junk"]) {
    await send("GET", p);
    assert.match((await send("GET", p)).cache, /fwd=/, `${p} must not be served as fresh`);
    assert.equal(upstreamSaw(p), 2, p);
  }
});

test("rfc9111 5.2.2.3: must-understand stores only understood statuses", async () => {
  await send("GET", "/rfc/mu-200");
  assert.match((await send("GET", "/rfc/mu-200")).cache, /; hit/, "200 is understood; no-store yields");
  assert.equal((await send("GET", "/rfc/mu-299")).status, 299);
  assert.match((await send("GET", "/rfc/mu-299")).cache, /fwd=uri-miss/, "299 is not understood");
});

test("rfc9111 5.2.1.7: only-if-cached is answered 504 by the cache, never forwarded", async () => {
  const miss = await send("GET", "/rfc/never", { "cache-control": "only-if-cached" });
  assert.equal(miss.status, 504);
  assert.ok(miss.json.type.endsWith("not-cached"));
  assert.equal(miss.cache, "Gatehouse; detail=only-if-cached");
  assert.equal(upstreamSaw("/rfc/never"), 0);
  await send("GET", "/rfc/stored");
  const hit = await send("GET", "/rfc/stored", { "cache-control": "only-if-cached" });
  assert.equal(hit.status, 200);
  assert.equal(hit.text, "stored-0");
});

test("rfc9111 5.4: Pragma: no-cache without Cache-Control forwards", async () => {
  await send("GET", "/rfc/pragma");
  const forwarded = await send("GET", "/rfc/pragma", { pragma: "no-cache" });
  assert.equal(forwarded.cache, "Gatehouse; fwd=request; stored");
  assert.equal(forwarded.text, "pragma-1");
  assert.match((await send("GET", "/rfc/pragma", { pragma: "no-cache", "cache-control": "max-age=3600" })).cache, /; hit/);
});

test("rfc9110 14: a Range request is served 206 from a complete cached response", async () => {
  await send("GET", "/rfc/range");
  const part = await send("GET", "/rfc/range", { range: "bytes=0-1" });
  assert.equal(part.status, 206);
  assert.equal(part.text, "01");
  assert.equal(part.headers.get("content-range"), "bytes 0-1/11");
  assert.match(part.cache, /; hit/);
  const past = await send("GET", "/rfc/range", { range: "bytes=20-" });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get("content-range"), "bytes */11");
  assert.equal(upstreamSaw("/rfc/range"), 1);
});

test("rfc9211: the gateway's own 502 and 504 carry Cache-Status", async () => {
  const started = performance.now();
  const timeout = await send("GET", "/rfc/hang");
  const waited = performance.now() - started;
  assert.equal(timeout.status, 504);
  assert.ok(waited < 2000 + 1000, `a hung upstream gets 504 within its timeout (2 s) + 1 s, took ${waited} ms`);
  timings.hung_upstream_504_ms = Math.round(waited);
  assert.equal(timeout.cache, "Gatehouse; fwd=uri-miss");
  const unreachable = await send("GET", "/dead/x");
  assert.equal(unreachable.status, 502);
  assert.equal(unreachable.cache, "Gatehouse; fwd=uri-miss");
});

test("rfc9111 3.5: a public cache never shares an answer the upstream built for one caller", async () => {
  const alices = await send("GET", "/shared/who", {}, "alice");
  assert.equal(alices.status, 200);
  assert.equal(alices.json.who, null, "no identity and no key reach the upstream of a shared entry");
  const bobs = await send("GET", "/shared/who", {}, "bob");
  assert.match(bobs.cache, /; hit/, "one entry for every caller");
  const posted = await send("POST", "/shared/who", {}, "alice");
  assert.ok(posted.json.who, "an unsafe request, never stored, still says who made it");
});

test("forwarded headers: a client's own X-Forwarded-For, Forwarded and X-Real-IP never reach the upstream", async () => {
  const before = upstream.seen.length;
  const r = await send("GET", "/rfc/fwd", {
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-host": "evil.example",
    forwarded: "for=6.6.6.6",
    "x-real-ip": "6.6.6.6",
  });
  assert.equal(r.status, 200);
  const seen = upstream.seen.slice(before).find((s) => s.path === "/rfc/fwd").headers;
  // Miniflare, like Cloudflare, names the client in CF-Connecting-IP (here the loopback).
  assert.equal(seen["x-forwarded-for"], "127.0.0.1", "the client as Cloudflare saw it, not as it claimed");
  assert.notEqual(seen["x-forwarded-host"], "evil.example");
  assert.equal(seen.forwarded, undefined, "api_rfc asks for X-Forwarded-* only");
  assert.equal(seen["x-real-ip"], undefined);
  timings.forwarded_seen_by_upstream = { xff: seen["x-forwarded-for"] ?? null, proto: seen["x-forwarded-proto"] ?? null };
});

test("no upstream answer crashes the Worker: unrepresentable answers are 502s and requests in flight still succeed", async () => {
  // Normal calls keep running on the same isolate while the hostile answers arrive.
  const normal = Array.from({ length: 24 }, (_, i) => send("GET", `/hostile/ok?i=${i}`));
  const bad = hostile.statuses.flatMap((s) => [send("GET", `/hostile/${s}`), send("GET", `/hostile/${s}`)]);
  const [good, refused] = await Promise.all([Promise.all(normal), Promise.all(bad)]);
  for (const r of good) {
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { ok: true });
  }
  for (const r of refused) {
    assert.equal(r.status, 502, r.text);
    assert.equal(r.headers.get("content-type"), "application/problem+json");
    assert.ok(r.json.detail, "the problem names the cause");
  }
  const named = refused.map((r) => r.json.detail).join("\n");
  assert.match(named, /status 600/, "a status outside 200-599 is named");
  // And the Worker still answers afterwards.
  assert.equal((await send("GET", "/hostile/ok")).status, 200);
});

test("server-sent events pass through the Worker one by one, uncompressed, counted once", async () => {
  gatewayCalls += 1;
  const res = await fetch(base + "/rfc/events", { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(res.headers.get("content-encoding"), null, "no compression added");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const received = [];
  let text = "";
  while (received.length < EVENTS) {
    const { value, done } = await reader.read();
    if (done) break;
    const at = performance.now();
    text += decoder.decode(value, { stream: true });
    while (received.length < EVENTS && text.includes(`data: event ${received.length}\n`)) received.push(at);
  }
  assert.equal(received.length, EVENTS, text);
  const lags = received.map((at, i) => at - upstream.sent[i]);
  const worst = Math.max(...lags);
  timings.sse_event_lag_ms = lags.map((l) => Number(l.toFixed(2)));
  // Each event arrives on its own, long before the stream ends (the events are 300 ms apart).
  assert.ok(worst < EVENT_GAP_MS / 2, `an event waited ${worst} ms in the Worker: ${lags}`);
});

test("a 1 MiB answer and a 1 MiB upload stream through the Worker whole", async () => {
  gatewayCalls += 1;
  const down = await fetch(base + "/rfc/bulk");
  const body = Buffer.from(await down.arrayBuffer());
  assert.equal(down.status, 200);
  assert.equal(body.length, 1024 * 1024);
  assert.ok(body.every((b) => b === 98), "every byte as sent");
  gatewayCalls += 1;
  const chunks = (async function* () { for (let i = 0; i < 16; i++) yield new Uint8Array(64 * 1024).fill(117); })();
  const up = await fetch(base + "/rfc/bulk", { method: "POST", body: chunks, duplex: "half" });
  assert.equal(up.status, 200);
  assert.equal(await up.text(), String(1024 * 1024), "the upload arrives whole, streamed");
});

test("a WebSocket is proxied after its upgrade is admitted, and a refused upgrade is a problem", async () => {
  gatewayCalls += 1;
  const url = base.replace("http", "ws") + "/pets/pets/ws";
  const refused = await new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("unexpected-response", (_, res) => resolve(res));
    ws.once("open", () => reject(new Error("switched without a key")));
    ws.once("error", () => {});
  });
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.headers["content-type"], "application/problem+json");
  gatewayCalls += 1;
  const ws = new WebSocket(url, { headers: { "x-api-key": key("bob") } });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  const echoed = new Promise((resolve) => ws.once("message", (data) => resolve(String(data))));
  ws.send("hello through the edge");
  assert.equal(await echoed, "hello through the edge");
  ws.close();
});

test("usage reaches the ingest endpoint signed, retried, complete and never double-counted", async () => {
  // Every event is delivered: due batches after responses, the rest by the trailing flush.
  const counted = () =>
    [...ingest.accepted.values()].flatMap((b) => b.rollups).reduce((n, r) => n + r.values.requests, 0);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && counted() < gatewayCalls) await new Promise((s) => setTimeout(s, 100));
  assert.ok(ingest.deliveries.length > 0);
  assert.ok(ingest.deliveries.every((d) => d.valid), "every delivery carries a valid signature");
  const first = ingest.deliveries[0].batchId;
  assert.ok(ingest.accepted.has(first), "the batch refused with 503 was retried with the same id");
  const ids = [...ingest.accepted.keys()];
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(counted(), gatewayCalls, "each request counted exactly once");
  const rollups = [...ingest.accepted.values()].flatMap((b) => b.rollups);
  const outcomes = rollups.reduce((o, r) => ({ ...o, ...r.values.outcomes }), {});
  assert.ok("quota_exceeded" in outcomes && "valid" in outcomes && "revoked" in outcomes);
  timings.usage_batches = ids.length;
  timings.usage_deliveries = ingest.deliveries.length;
  timings.usage_requests_counted = counted();
});
