// A stand-in for the one part of the Cloudflare API the control plane calls: the Workers KV
// bulk write, `PUT /client/v4/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/bulk`
// with `Authorization: Bearer <token>` and a JSON array of `{key, value}` (Cloudflare's
// documented shape: https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/bulk_update/).
// Each pair is written into a Miniflare KV namespace, the one the Worker under test reads, so
// what the control plane publishes is exactly what the edge sees. What it does not model:
// KV's propagation delay (Miniflare's KV is read-your-writes) and Cloudflare's rate limits.
import { createServer } from "node:http";

const MAX_PAIRS = 10_000; // Cloudflare's limit per request
const MAX_KEY_BYTES = 512;

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const failure = (code, message) => ({ success: false, errors: [{ code, message }], messages: [], result: null });

/**
 * Starts the stand-in on 127.0.0.1. `kv` is a Miniflare KV namespace (`mf.getKVNamespace`);
 * `writes` lists every pair written, in order, with the time it arrived.
 */
export async function startCloudflareApi({ kv, accountId, namespaceId, token }) {
  const writes = [];
  const bulk = `/client/v4/accounts/${accountId}/storage/kv/namespaces/${namespaceId}/bulk`;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (req.headers.authorization !== `Bearer ${token}`) return answer(res, 403, failure(10000, "Authentication error"));
    if (req.method !== "PUT" || req.url !== bulk) return answer(res, 404, failure(7003, "Could not route to " + req.url));
    let pairs;
    try {
      pairs = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(res, 400, failure(10026, "could not parse request body"));
    }
    const valid = (p) => typeof p?.key === "string" && typeof p.value === "string" && p.key.length > 0
      && Buffer.byteLength(p.key) <= MAX_KEY_BYTES;
    if (!Array.isArray(pairs) || pairs.length > MAX_PAIRS || !pairs.every(valid)) {
      return answer(res, 400, failure(10001, "expected an array of at most 10000 {key, value} pairs"));
    }
    for (const { key, value, base64 } of pairs) {
      await kv.put(key, base64 ? Buffer.from(value, "base64").toString("utf8") : value);
      writes.push({ key, value, at: Date.now() });
    }
    answer(res, 200, { success: true, errors: [], messages: [],
      result: { successful_key_count: pairs.length, unsuccessful_keys: [] } });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { apiBase: `${url}/client/v4`, writes, close: () => server.close() };
}
