// The test's real neighbours on 127.0.0.1: an upstream API and the control plane's usage
// ingest endpoint (which verifies each batch's signature and records each batch id once).
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";

export function sign(secret, body, nowMs = Date.now()) {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

export function verify(secret, header, body, toleranceSecs = 300) {
  const parts = Object.fromEntries(String(header || "").split(",").map((p) => p.trim().split("=")));
  if (!parts.t || !parts.v1) return false;
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > toleranceSecs) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

/** The upstream: counts hits per path and remembers the headers it was sent. */
export async function startUpstream() {
  const hits = {};
  const seen = [];
  const server = createServer((req, res) => {
    const path = req.url.split("?")[0];
    hits[path] = (hits[path] || 0) + 1;
    seen.push({ path, headers: req.headers });
    const send = (body, headers = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (path === "/catalog") return send({ items: [1, 2], n: hits[path] }, { "cache-control": "public, max-age=60", etag: '"c1"' });
    if (path.startsWith("/tagged/")) {
      // Cacheable, tagged with its last segment (Cloudflare's Cache-Tag) for purge by tag.
      return send({ path, n: hits[path] }, { "cache-control": "public, max-age=60", "cache-tag": path.slice(8) });
    }
    if (path === "/secret") {
      return send({ caller: req.headers["gatehouse-identity"] || null, n: hits[path] }, { "cache-control": "private, max-age=60" });
    }
    return send({ ok: true, path }, { "cache-control": "no-store" });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, hits, seen, close: () => server.close() };
}

/** The ingest endpoint. It answers 503 to the first delivery to prove the edge retries. */
export async function startIngest(secret) {
  const accepted = new Map(); // batch id → batch
  const deliveries = [];
  let refusedFirst = false;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const valid = verify(secret, req.headers["gatehouse-signature"], body);
      const batch = valid ? JSON.parse(body) : null;
      deliveries.push({ valid, batchId: batch?.batch_id });
      if (!valid) {
        res.writeHead(401).end();
      } else if (!refusedFirst) {
        refusedFirst = true;
        res.writeHead(503).end();
      } else {
        if (!accepted.has(batch.batch_id)) accepted.set(batch.batch_id, batch);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      }
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/v1/usage/batches`, accepted, deliveries, close: () => server.close() };
}
