// End-to-end: a mock API at the edge — `upstream.url = "mock:"`, answered by the Worker from its
// OpenAPI document (examples, Prism's Prefer header, schema-made values) under workerd, with
// keys and usage as for any API and no upstream at all; and two mock versions of one API on
// one base path, chosen by header. Its own Miniflare instance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const key = seed.secrets.mockcaller.secret;
const versionedKey = seed.secrets.versioned.secret;
let mf;

before(async () => {
  mf = new Miniflare(workerOptions({ GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" }));
  await mf.ready;
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  // No upstream: the mock API never calls one (other APIs' placeholders point nowhere).
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", "http://127.0.0.1:9"));
});

after(async () => {
  await mf?.dispose();
});

async function call(p, headers = {}) {
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

test("a mock API answers from its document's examples at the edge, after the key is checked", async () => {
  assert.equal((await call("/mock/pets/1")).status, 401, "no key, no answer");
  const first = await call("/mock/pets/1", { "x-api-key": key });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json, { id: "1", name: "Tom", kind: "cat" });
  const dog = await call("/mock/pets/2", { "x-api-key": key, prefer: "example=dog" });
  assert.deepEqual(dog.json, { id: "2", name: "Rex", kind: "dog" });
  const missing = await call("/mock/pets/9", { "x-api-key": key, prefer: "code=404" });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { error: "no such pet" });
  const teapot = await call("/mock/pets/9", { "x-api-key": key, prefer: "code=418" });
  assert.equal(teapot.status, 400, teapot.text);
  assert.equal(teapot.headers.get("content-type"), "application/problem+json");
  const list = await call("/mock/pets", { "x-api-key": key });
  assert.equal(list.status, 200, list.text);
  assert.ok(Array.isArray(list.json) && list.json.length >= 1 && Number.isInteger(list.json[0].id), list.text);
});

// Two versions of one API on `/ver`, chosen by the `api-version` header (v1 the default), each a
// mock answering with its own label: an unknown version is a problem, never another version.
test("versions on one base path are chosen by header at the edge, the default without one", async () => {
  const plain = await call("/ver/pets/1", { "x-api-key": versionedKey });
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.json.version, "v1", "no header: the default version");
  const v2 = await call("/ver/pets/1", { "x-api-key": versionedKey, "api-version": "v2" });
  assert.equal(v2.status, 200, v2.text);
  assert.equal(v2.json.version, "v2");
  const v1 = await call("/ver/pets/1", { "x-api-key": versionedKey, "api-version": "v1" });
  assert.equal(v1.json.version, "v1");
  const unknown = await call("/ver/pets/1", { "x-api-key": versionedKey, "api-version": "v9" });
  assert.equal(unknown.status, 404, unknown.text);
  assert.equal(unknown.headers.get("content-type"), "application/problem+json");
  assert.equal(unknown.json.version, undefined, "no version answers for it");
});
