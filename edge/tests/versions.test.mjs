// End-to-end: two versions of one API on one base path at the edge, chosen by the
// `api-version` header, with v1 answering requests that send none; an unknown version is a
// problem, never another version's answer. The versions are mocks (each answers with its own
// label), so no upstream is needed. Its own Miniflare instance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const key = seed.secrets.versioned.secret;
let mf;

before(async () => {
  mf = new Miniflare(workerOptions({ GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" }));
  await mf.ready;
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", "http://127.0.0.1:9"));
});

after(async () => {
  await mf?.dispose();
});

async function call(p, headers = {}) {
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { headers: { "x-api-key": key, ...headers } });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

test("versions on one base path are chosen by header at the edge, the default without one", async () => {
  const plain = await call("/ver/pets/1");
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.json.version, "v1", "no header: the default version");
  const v2 = await call("/ver/pets/1", { "api-version": "v2" });
  assert.equal(v2.status, 200, v2.text);
  assert.equal(v2.json.version, "v2");
  const v1 = await call("/ver/pets/1", { "api-version": "v1" });
  assert.equal(v1.json.version, "v1");
  const unknown = await call("/ver/pets/1", { "api-version": "v9" });
  assert.equal(unknown.status, 404, unknown.text);
  assert.equal(unknown.headers.get("content-type"), "application/problem+json");
  assert.equal(unknown.json.version, undefined, "no version answers for it");
});
