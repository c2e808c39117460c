// End-to-end: validation at the edge under workerd. The seed's `api_validated` checks requests
// against its OpenAPI document (compiled by the Worker on an operation's first checked call):
// a request that does not match is refused with 400 problem+json naming every error by JSON
// Pointer and never reaches the real upstream on 127.0.0.1; a valid one reaches it unchanged.
// The same core check as natively (native/tests/validation.rs). Its own Miniflare instance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Miniflare } from "miniflare";
import { workerOptions } from "./servers.mjs";

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));
const key = seed.secrets.validcaller.secret;
/** Every request the upstream received: method, path and query, headers, body. */
const seen = [];
let mf;
let upstream;

before(async () => {
  upstream = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  await new Promise((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${upstream.address().port}`;
  mf = new Miniflare(workerOptions({ GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" }));
  await mf.ready;
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", origin));
});

after(async () => {
  await mf?.dispose();
  upstream?.close();
});

async function call(method, p, headers = {}, body) {
  const res = await mf.dispatchFetch(`http://gateway.test${p}`, { method, headers: { "x-api-key": key, ...headers }, body });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

const pointers = (problem) => problem.errors.map((e) => e.pointer).sort();
const json = { "content-type": "application/json" };

test("a valid request reaches the upstream unchanged", async () => {
  const body = '{"items": [{"price": 2.5}], "note": null}';
  const before = seen.length;
  const ok = await call("PUT", "/validated/orders/7", { ...json, "x-trace": "0123abcd" }, body);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(seen.length, before + 1);
  const got = seen.at(-1);
  assert.equal(got.url, "/orders/7");
  assert.equal(got.body, body, "byte for byte");
  assert.equal(got.headers["x-trace"], "0123abcd");
  const listed = await call("GET", "/validated/orders?limit=10");
  assert.equal(listed.status, 200, listed.text);
  assert.equal(seen.at(-1).url, "/orders?limit=10");
});

test("an invalid request is refused with every error's pointer and never reaches the upstream", async () => {
  const before = seen.length;
  const bad = await call("PUT", "/validated/orders/0", { ...json, "x-trace": "not-hex!" }, '{"items": [{"price": -1}, {}]}');
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.headers.get("content-type"), "application/problem+json");
  assert.equal(bad.json.type, "https://gatehouse.dev/problems/invalid-request");
  assert.equal(bad.json.outcome, "invalid_request");
  assert.deepEqual(pointers(bad.json), ["/body/items/0/price", "/body/items/1", "/header/X-Trace", "/path/id"]);
  assert.ok(!bad.text.includes("not-hex"), "no value sent is echoed back");

  const query = await call("GET", "/validated/orders?limit=500");
  assert.equal(query.status, 400, query.text);
  assert.deepEqual(pointers(query.json), ["/query/limit"]);

  const broken = await call("PUT", "/validated/orders/7", { ...json, "x-trace": "0123abcd" }, '{"items": [');
  assert.deepEqual(pointers(broken.json), ["/body"]);
  const missing = await call("PUT", "/validated/orders/7", { ...json, "x-trace": "0123abcd" });
  assert.deepEqual(pointers(missing.json), ["/body"], "the body is required");
  assert.equal(seen.length, before, "the upstream saw none of them");
});

test("an operation whose override turns checks off is forwarded as it came", async () => {
  const before = seen.length;
  const note = await call("POST", "/validated/notes", json, '{"no": "text"}');
  assert.equal(note.status, 200, note.text);
  assert.equal(seen.length, before + 1);
  assert.equal(seen.at(-1).body, '{"no": "text"}');
});

test("without a key the caller learns nothing about the schema", async () => {
  const res = await mf.dispatchFetch("http://gateway.test/validated/orders?limit=500");
  assert.equal(res.status, 401, await res.text());
});

test("a JSON body larger than the Worker holds whole is read from its stream, checked and forwarded whole", async () => {
  const items = Array.from({ length: 4000 }, (_, i) => ({ price: i + 0.5 }));
  const body = JSON.stringify({ items });
  assert.ok(body.length > 64 * 1024, "past the 64 KiB the Worker reads whole up front");
  const before = seen.length;
  const ok = await call("PUT", "/validated/orders/7", { ...json, "x-trace": "0123abcd" }, body);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(seen.at(-1).body, body);
  items[3999].price = -1;
  const bad = await call("PUT", "/validated/orders/7", { ...json, "x-trace": "0123abcd" }, JSON.stringify({ items }));
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(pointers(bad.json), ["/body/items/3999/price"]);
  assert.equal(seen.length, before + 1);
});
