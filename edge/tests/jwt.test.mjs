// End-to-end: bearer JWTs at the edge (issue 20) — the built Worker under workerd, a real
// identity provider on 127.0.0.1 (./idp.mjs: rotating JWK Sets, OpenID Connect discovery,
// fetch counts) and tokens signed here. Its own Miniflare instance, so key caches start cold
// and its calls never mix with edge.test.mjs's usage counts. Run by scripts/test-edge.sh.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { startUpstream, workerOptions } from "./servers.mjs";
import { claims, newKey, sharedCopy, signToken, startIdp } from "./idp.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const { issuer: ISSUER, oidc_issuer: OIDC_ISSUER } = seed.jwt;
const keys = {};
let mf, base, upstream, idp, kv;

before(async () => {
  upstream = await startUpstream();
  idp = await startIdp(OIDC_ISSUER);
  keys.rsa = newKey("RS256", "rsa-1");
  keys.ec = newKey("ES256", "ec-1");
  keys.ed = newKey("EdDSA", "ed-1");
  keys.ec384 = newKey("ES384", "ec384-1");
  keys.impostor = newKey("RS256", "rsa-1"); // same kid, another key: its signatures must fail
  idp.sets.main = [keys.rsa, keys.ec, keys.ec384, keys.ed];
  mf = new Miniflare(workerOptions({ GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" }));
  base = String(await mf.ready).replace(/\/$/, "");
  kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) {
    await kv.put(k, v.replaceAll("__UPSTREAM__", upstream.url).replaceAll("__IDP__", idp.url));
  }
  // Another isolate fetched the main set two minutes ago and shared it through KV.
  await kv.put(...sharedCopy(`${idp.url}/main/jwks.json`, idp.sets.main, 120_000));
});

after(async () => {
  await mf?.dispose();
  upstream?.close();
  idp?.close();
});

async function call(p, token, headers = {}) {
  const res = await fetch(base + p, { headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json };
}

function assertProblem(r, status, slug) {
  assert.equal(r.status, status, `${slug}: ${JSON.stringify(r.json)}`);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.ok(r.json.type.endsWith(`/${slug}`), `${r.json.type} should end with ${slug}`);
}

const token = (key, extra = {}, options = {}) => signToken(key, claims(ISSUER, extra), options);
const sleep = (ms) => new Promise((s) => setTimeout(s, ms));

test("a valid token admits its client's app; the upstream sees the end user and never the token", async () => {
  const r = await call("/jwt/read", token(keys.rsa, { scope: "pets:read" }));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const seen = upstream.seen.at(-1).headers;
  assert.equal(seen.authorization, undefined, "the token is stripped");
  assert.match(seen["gatehouse-identity"], /^app=app_oauth;dev=dev_oauth;key=key_oauth_idp;ts=\d+;sub=user-7$/);
  assert.ok(seen["gatehouse-signature"]);
  assert.equal(idp.fetches.main, undefined, "a cold isolate took the set another isolate shared through KV");
});

test("every supported asymmetric algorithm verifies with WebCrypto: RS256/384/512, PS256, ES256/384, EdDSA", async () => {
  const rsa = ["RS256", "RS384", "RS512", "PS256"].map((alg) => [keys.rsa, alg]);
  const cases = [...rsa, [keys.ec, "ES256"], [keys.ec384, "ES384"], [keys.ed, "EdDSA"]];
  for (const [key, alg] of cases) {
    const r = await call("/jwt/read", token(key, { scope: "pets:read" }, { alg }));
    assert.equal(r.status, 200, `${alg}: ${JSON.stringify(r.json)}`);
  }
});

test("a missing scope is 403 insufficient-scope with a Bearer challenge naming it", async () => {
  const r = await call("/jwt/write", token(keys.rsa, { scope: "pets:read" }));
  assertProblem(r, 403, "insufficient-scope");
  assert.equal(r.headers.get("www-authenticate"), 'Bearer error="insufficient_scope", scope="pets:write"');
  assert.equal((await call("/jwt/write", token(keys.ec, { scope: "pets:read pets:write" }, { alg: "ES256" }))).status, 200);
});

test("crafted and wrong tokens are refused, each with its problem type, and never reach the upstream", async () => {
  const good = token(keys.rsa, { scope: "pets:read" });
  const [h, p] = good.split(".");
  const now = Math.floor(Date.now() / 1000);
  const rsaPublicPem = Buffer.from(keys.rsa.jwk.n, "base64url"); // stands for "the public key as an HMAC secret"
  const table = [
    ["alg none", `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`, 401, "jwt-unsigned"],
    ["expired", token(keys.rsa, { scope: "pets:read", exp: now - 120 }), 401, "jwt-expired"],
    ["no exp", token(keys.rsa, { scope: "pets:read", exp: undefined }), 401, "jwt-no-expiry"],
    ["not yet valid", token(keys.rsa, { scope: "pets:read", nbf: now + 600 }), 401, "jwt-not-yet-valid"],
    ["wrong aud", token(keys.rsa, { scope: "pets:read", aud: "billing" }), 401, "jwt-wrong-audience"],
    ["wrong iss", token(keys.rsa, { scope: "pets:read", iss: "https://evil.test/" }), 401, "jwt-wrong-issuer"],
    ["bad signature", token(keys.impostor, { scope: "pets:read" }), 401, "jwt-bad-signature"],
    ["tampered claims", `${h}.${Buffer.from(JSON.stringify(claims(ISSUER, { scope: "pets:read pets:admin" }))).toString("base64url")}.${good.split(".")[2]}`, 401, "jwt-bad-signature"],
    ["ES256 signature cut short", token(keys.ec, { scope: "pets:read" }, { alg: "ES256" }).slice(0, -10), 401, "jwt-bad-signature"],
    ["RS/HS confusion", signToken({ kid: "rsa-1", secret: rsaPublicPem }, claims(ISSUER, { scope: "pets:read" }), { alg: "HS256" }), 401, "jwt-algorithm-not-allowed"],
    ["jku header", token(keys.rsa, { scope: "pets:read" }, { header: { jku: "https://evil.test/keys" } }), 401, "jwt-key-location-header"],
    ["unknown crit", token(keys.rsa, { scope: "pets:read" }, { header: { crit: ["exp-ext"] } }), 401, "jwt-unknown-critical-header"],
    ["malformed", "e30.bm90IGpzb24.c2ln", 401, "jwt-malformed"],
    ["unregistered client", token(keys.rsa, { scope: "pets:read", client_id: "cli_nobody" }), 403, "jwt-unknown-client"],
  ];
  const hits = upstream.seen.length;
  for (const [what, t, status, slug] of table) {
    const r = await call("/jwt/read", t);
    assertProblem(r, status, slug);
    if (status === 401) assert.equal(r.headers.get("www-authenticate"), 'Bearer error="invalid_token"', what);
  }
  assert.equal(upstream.seen.length, hits, "no refused token reached the upstream");
});

test("an unknown kid is refused after one refetch, and not refetched again within a minute", async () => {
  const stranger = newKey("RS256", "rsa-unknown");
  const before = idp.fetches.main ?? 0;
  assertProblem(await call("/jwt/read", token(stranger, { scope: "pets:read" })), 401, "jwt-unknown-key");
  assert.equal(idp.fetches.main, before + 1, "the set (shared two minutes ago) was fetched again once");
  assertProblem(await call("/jwt/read", token(stranger, { scope: "pets:read" })), 401, "jwt-unknown-key");
  assert.equal(idp.fetches.main, before + 1, "at most one refetch a minute");
  assert.equal((await call("/jwt/read", token(keys.rsa, { scope: "pets:read" }))).status, 200);
});

test("a key rollover fails no request: old and new keys both verify across the switch", async () => {
  const [old, next] = [newKey("RS256", "roll-1"), newKey("RS256", "roll-2")];
  const url = `${idp.url}/roll/jwks.json`;
  await kv.put(...sharedCopy(url, [old], 120_000)); // the set as shared before the provider added roll-2
  idp.sets.roll = [old, next]; // the provider publishes roll-2, then signs with it
  assert.equal((await call("/roll/read", token(old))).status, 200);
  const mixed = await Promise.all(Array.from({ length: 20 }, (_, i) => call("/roll/read", token(i % 2 ? next : old, { jti: `r${i}` }))));
  assert.deepEqual(mixed.map((r) => r.status), Array(20).fill(200));
  assert.equal(idp.fetches.roll, 1, "one refetch for the new kid, shared by every request waiting on it");
  const shared = JSON.parse(await kv.get(sharedCopy(url, [], 0)[0]));
  assert.deepEqual(shared.keys.keys.map((k) => k.kid), ["roll-1", "roll-2"], "the refetched set is shared through KV");
  assert.ok(Date.now() - shared.fetched_at < 10_000);
});

test("a token seen before costs no key lookup or signature check: it passes after its key left the set", async () => {
  const [gone, current] = [newKey("RS256", "warm-1"), newKey("RS256", "warm-2")];
  await kv.put(...sharedCopy(`${idp.url}/warm/jwks.json`, [gone], 120_000));
  const seen = token(gone, { jti: "seen" });
  assert.equal((await call("/warm/read", seen)).status, 200);
  idp.sets.warm = [current]; // the provider drops warm-1; the next unknown kid refetches
  assert.equal((await call("/warm/read", token(current))).status, 200);
  assert.equal(idp.fetches.warm, 1);
  assert.equal((await call("/warm/read", seen)).status, 200, "verified on this isolate already, until its exp");
  assertProblem(await call("/warm/read", token(gone, { jti: "new" })), 401, "jwt-unknown-key");
});

test("a provider down at cold start is 503 and not hammered; once up, tokens pass", async () => {
  const key = newKey("RS256", "down-1");
  idp.sets.down = [key];
  idp.down.add("down");
  const first = await call("/down/read", token(key));
  assertProblem(first, 503, "service-unavailable");
  assertProblem(await call("/down/read", token(key)), 503, "service-unavailable");
  assert.equal(idp.fetches.down, 1, "within 2 s of a failed fetch, no new attempt");
  idp.down.delete("down");
  await sleep(2100);
  assert.equal((await call("/down/read", token(key))).status, 200);
  assert.equal(idp.fetches.down, 2);
});

test("concurrent requests on a cold isolate cause one JWKS fetch", async () => {
  const key = newKey("RS256", "crowd-1");
  idp.sets.crowd = [key];
  idp.delayMs.crowd = 150; // every request arrives while the one fetch is under way
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call("/crowd/read", token(key, { jti: `c${i}` }))));
  assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
  assert.equal(idp.fetches.crowd, 1);
});

test("a published key WebCrypto cannot import checks no token, and the provider's other keys still verify", async () => {
  const good = newKey("RS256", "odd-good");
  idp.sets.odd = [good, { jwk: { kty: "RSA", kid: "odd-broken", n: "not a modulus!", e: "AQAB" } }];
  assertProblem(await call("/odd/read", token({ ...good, kid: "odd-broken" })), 401, "jwt-unknown-key");
  assert.equal((await call("/odd/read", token(good))).status, 200, "the provider's other keys still verify");
});

test("OpenID Connect discovery names the issuer and the key set", async () => {
  const key = newKey("ES256", "oidc-1");
  idp.sets["oidc-keys"] = [key];
  const ok = signToken(key, claims(OIDC_ISSUER));
  const results = await Promise.all(Array.from({ length: 5 }, () => call("/oidc/read", ok)));
  assert.deepEqual(results.map((r) => r.status), Array(5).fill(200), JSON.stringify(results[0].json));
  assert.match(upstream.seen.at(-1).headers["gatehouse-identity"], /key=key_oauth_oidc;.*;sub=user-7$/);
  assertProblem(await call("/oidc/read", signToken(key, claims(ISSUER))), 401, "jwt-wrong-issuer");
  assert.deepEqual([idp.fetches.oidc, idp.fetches["oidc-keys"]], [1, 1], "one discovery, one key set");
});

test("HS256 verifies with the API's static secret only", async () => {
  const secret = { kid: "hs1", secret: seed.jwt.hs256_secret };
  assert.equal((await call("/hs/read", signToken(secret, claims(ISSUER), { alg: "HS256" }))).status, 200);
  const forged = signToken({ kid: "hs1", secret: "not the secret" }, claims(ISSUER), { alg: "HS256" });
  assertProblem(await call("/hs/read", forged), 401, "jwt-bad-signature");
});

test("a token's calls count against its client's app like a key's: the app's quota refuses the sixth", async () => {
  const secret = { kid: "hs1", secret: seed.jwt.hs256_secret };
  const statuses = [];
  let last;
  for (let i = 0; i < 6; i++) {
    last = await call("/hsq/read", signToken(secret, claims(ISSUER, { jti: `q${i}` }), { alg: "HS256" }));
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  assertProblem(last, 429, "quota-exceeded");
  assert.match(last.headers.get("ratelimit-policy"), /daily/);
});

test("an operation that takes a key or a token takes either", async () => {
  assert.equal((await call("/jwt/either", token(keys.rsa))).status, 200);
  assert.equal((await call("/jwt/either", null, { "x-api-key": seed.secrets.jwtkey.secret })).status, 200);
});
