// The test's real neighbours on 127.0.0.1: an upstream API and the control plane's usage
// ingest endpoint (which verifies each batch's signature and records each batch id once).
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { createHmac, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
// A real RFC 6455 peer for the WebSocket test (already installed: miniflare depends on it).
import { WebSocketServer } from "ws";

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

const edge = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Miniflare options for the built Worker (`edge/build`, made by scripts/test-edge.sh) with the
 * bindings wrangler.toml declares, KV and the two Durable Objects, on a free port of
 * 127.0.0.1 and without Cloudflare's `cf` object; `bindings` are the Worker's variables.
 * Each test file starts its own instance with these, so their calls never mix.
 */
export function workerOptions(bindings) {
  return {
    modules: true,
    scriptPath: path.join(edge, "build/index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    kvNamespaces: ["GATEHOUSE_KV"],
    durableObjects: {
      LIMITER: { className: "LimiterObject", useSQLite: true },
      REVOCATIONS: { className: "Revocations", useSQLite: true },
    },
    bindings,
    host: "127.0.0.1",
    port: 0,
    cf: false,
  };
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

/** The upstream: counts hits per path and remembers the headers it was sent. */
export async function startUpstream() {
  const hits = {};
  const seen = [];
  const sent = []; // when each server-sent event was written (performance.now())
  // /slow/<name>: when its last chunk was written and when its connection closed; `counted`:
  // the length of each complete upload to /slow/.
  const streams = { counted: [] };
  const server = createServer((req, res) => {
    const path = req.url.split("?")[0];
    hits[path] = (hits[path] || 0) + 1;
    seen.push({ path, method: req.method, headers: req.headers });
    const send = (body, headers = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (path === "/rfc/events") return events(res, sent);
    if (path.startsWith("/slow/")) return slow(req, res, path.slice(6), streams);
    if (path === "/rfc/bulk" && req.method === "POST") return countBody(req, res);
    if (path === "/rfc/bulk") return bulk(res);
    if (path.startsWith("/rfc/")) return rfc(req, res, path.slice(5), hits[path]);
    if (path.startsWith("/shared/")) {
      // Echoes who it was told the caller is: a shared entry must say nobody.
      const who = req.headers["gatehouse-identity"] || req.headers["x-api-key"] || null;
      if (req.method !== "GET") return send({ who }, { "cache-control": "no-store" });
      return send({ who, n: hits[path] }, { "cache-control": "public, max-age=60" });
    }
    if (path === "/crm/customers/1") {
      // sensitive.test.mjs: personal and financial data, one shared cache entry for all.
      const customer = { id: "1", name: "Ann", email: "ann@example.com", card: "4111111111111111",
        referrals: [{ id: "2", name: "Bob", email: "bob@example.com" }] };
      return send(customer, { "cache-control": "public, max-age=60", etag: '"v1"' });
    }
    if (path === "/crm/export") {
      res.writeHead(200, { "content-type": "text/csv" });
      return res.end("id,email\n1,ann@example.com\n");
    }
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
  // WebSocket upgrades on any path: every message echoed back.
  const sockets = new WebSocketServer({ server });
  sockets.on("connection", (ws) => ws.on("message", (data, binary) => ws.send(data, { binary })));
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, hits, seen, sent, streams, counted: streams.counted, close: () => { sockets.close(); server.close(); } };
}

/** Sizes of /slow/chunked's chunks: 200,000 bytes in all, no Content-Length. */
export const CHUNKED_SIZES = [1, 70_000, 4_999, 65_536, 59_464];

/**
 * Streams for the edge's timeouts and byte counts (stream.test.mjs): `stall` announces 200,000
 * bytes, sends 101,000 in two chunks and then nothing while keeping the connection open;
 * `stall-chunked` does the same unannounced (chunked); `long` announces and sends 100,000
 * bytes, 1,000 every 100 ms, so it lasts 10 s; `chunked` sends CHUNKED_SIZES 20 ms apart,
 * unannounced, and ends; `break` announces 200,000 bytes, sends 100,000 and breaks the
 * connection; a POST's body is counted and the count answered. `streams[name]`
 * records when the last chunk was written (performance.now()) and when the connection closed.
 */
function slow(req, res, name, streams) {
  if (req.method === "POST") return countBody(req, res, streams.counted);
  const state = (streams[name] = { last: null, closed: null, bytes: 0 });
  let timer;
  res.on("close", () => { state.closed = performance.now(); clearInterval(timer); });
  const announced = { stall: 200_000, long: 100_000, break: 200_000 }[name];
  const length = announced ? { "content-length": announced } : {};
  res.writeHead(200, { "content-type": "application/octet-stream", "cache-control": "no-store", ...length });
  const write = (n) => { res.write(Buffer.alloc(n, "s")); state.last = performance.now(); state.bytes += n; };
  if (name === "break") {
    // Half the announced body, then the connection breaks.
    write(100_000);
    return setTimeout(() => res.socket.destroy(), 50);
  }
  const stalls = name === "stall" || name === "stall-chunked";
  const plan = stalls ? [100_000, 1_000] : name === "chunked" ? [...CHUNKED_SIZES] : null;
  let ticks = 0;
  timer = setInterval(() => {
    if (plan) {
      if (plan.length) write(plan.shift());
      else if (name === "chunked") { clearInterval(timer); res.end(); }
      return; // stall: silence, connection open
    }
    if (++ticks > 100) { clearInterval(timer); return res.end(); }
    write(1_000);
  }, name === "long" ? 100 : 20);
}

export const EVENTS = 5;
export const EVENT_GAP_MS = 300;

/** Server-sent events, `EVENT_GAP_MS` apart, each timestamped in `sent` as it is written. */
function events(res, sent) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  sent.length = 0;
  let n = 0;
  const timer = setInterval(() => {
    res.write(`data: event ${n}\n\n`);
    sent.push(performance.now());
    n += 1;
    if (n === EVENTS) {
      clearInterval(timer);
      res.end();
    }
  }, EVENT_GAP_MS);
}

/** 1 MiB of known bytes, announced, cacheable: past the inline size, it streams. */
function bulk(res) {
  const body = Buffer.alloc(1024 * 1024, "b");
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length, "cache-control": "no-store" });
  res.end(body);
}

/** Counts the bytes of an upload and answers the count (remembered in `counted` when given). */
function countBody(req, res, counted) {
  let n = 0;
  req.on("data", (chunk) => { n += chunk.length; });
  req.on("end", () => {
    counted?.push(n);
    const text = String(n);
    res.writeHead(200, { "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
    res.end(text);
  });
}

/**
 * The RFC 9111 cases' upstream, the same script as native/tests/cache_rfc9111.rs: `name` is
 * the last path segment, `n` how many requests for the path arrived so far (1-based).
 */
function rfc(req, res, name, n) {
  const body = `${name}-${n - 1}`;
  const answer = (status, headers, text) => {
    res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const fresh = { "cache-control": "max-age=3600" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    if (name === "fail") return answer(500, {}, "no");
    return answer(201, { location: "/rfc/loc", "content-location": "/rfc/cl" }, "made");
  }
  switch (name) {
    // Node writes an array as repeated lines: the Workers Headers API joins them again.
    case "age-two-lines": return answer(200, { ...fresh, age: ["7200", "0"] }, body);
    case "age-joined": return answer(200, { ...fresh, age: "7200, 0" }, body);
    case "age-junk": return answer(200, { ...fresh, age: "abc" }, body);
    case "mu-200": return answer(200, { "cache-control": "must-understand, no-store, max-age=3600" }, body);
    case "mu-299": return answer(299, { "cache-control": "must-understand, no-store, max-age=3600" }, body);
    case "etag":
      if (req.headers["if-none-match"]) {
        res.writeHead(304, { "cache-control": "max-age=3600", etag: '"v2"', "content-encoding": "br", "x-refreshed": "yes" });
        return res.end();
      }
      return answer(200, { "cache-control": "max-age=1", etag: '"v1"', "content-encoding": "identity", "x-refreshed": "no" }, body);
    case "hang": return; // never answers
    case "range": return answer(200, fresh, "01234567890");
    default: return answer(200, fresh, body);
  }
}

/**
 * An upstream that answers each request with raw bytes no Workers `Response` can hold (a
 * status outside 200-599, an interim status as the answer), by the request's last path
 * segment; `/hostile/ok` is a normal answer.
 */
export async function startHostile() {
  const answers = {
    "600": "HTTP/1.1 600 Beyond\r\ncontent-length: 2\r\n\r\nhi",
    "999": "HTTP/1.1 999 Nine\r\ncontent-length: 2\r\n\r\nhi",
    "199": "HTTP/1.1 199 Interim\r\ncontent-length: 2\r\n\r\nhi",
    "101": "HTTP/1.1 101 Switching Protocols\r\ncontent-length: 0\r\n\r\n",
    "garbage": "NOT HTTP AT ALL\r\n\r\n",
    ok: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}",
  };
  const server = createTcpServer((socket) => {
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const target = head.split(" ")[1] || "/";
      const name = target.split("?")[0].split("/").pop();
      socket.end(answers[name] ?? answers.ok);
      head = "";
    });
    socket.on("error", () => {});
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, statuses: Object.keys(answers).filter((k) => k !== "ok"), close: () => server.close() };
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
