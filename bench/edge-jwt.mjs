// What a bearer JWT costs the Worker under workerd, in CPU per request (issue 20's goals:
// a warm RS256 token adds ≤ 1 ms, a first sight — a WebCrypto verify — ≤ 2 ms).
//
// Run after scripts/test-edge.sh has built the Worker (edge/build) and its seed:
//   node bench/edge-jwt.mjs        # BENCH_CYCLES=40 cycles of BENCH_BLOCK=25 requests per case
//
// The Worker cannot time itself (Date.now() stands still during CPU in workerd), so this reads
// the workerd processes' on-CPU time (every thread's /proc schedstat, in ns) around a block of
// sequential requests of one case, in the same Worker, cycling through the cases. Every case
// calls the same operation (GET /jwt/either, which takes a key or a token) through to the
// same upstream, so the differences are the credential's own cost:
//   public      /pets/health, no credential at all (the floor: routing, upstream, response)
//   key         an API key (x-api-key)
//   jwt-warm    one RS256 token again and again (the verified-token cache: no signature check)
//   rs256-first a new RS256 token each request (WebCrypto RSASSA-PKCS1-v1_5 verify)
//   es256-first a new ES256 token each request (WebCrypto ECDSA P-256 verify)
// Tokens are signed before each measured run, so Node's signing is never counted (nor is it
// in workerd's CPU anyway).
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const edge = path.join(root, "edge");
const require = createRequire(path.join(edge, "package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);
const { startUpstream } = await import(pathToFileURL(path.join(edge, "tests/servers.mjs")).href);
const { claims, newKey, signToken, startIdp } = await import(pathToFileURL(path.join(edge, "tests/idp.mjs")).href);

const BLOCK = Number(process.env.BENCH_BLOCK || 25);
const CYCLES = Number(process.env.BENCH_CYCLES || 40);
const seed = JSON.parse(readFileSync(path.join(edge, "build/seed.json"), "utf8"));

/** On-CPU time (ms, nanosecond resolution) of the workerd processes this process started:
 * the sum of /proc/<pid>/task/<tid>/schedstat over every thread. */
function workerdCpuMs() {
  let ns = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { continue; }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (comm !== "workerd" || ppid !== process.pid) continue;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]); } catch {}
    }
  }
  return ns / 1e6;
}

const upstream = await startUpstream();
const idp = await startIdp(seed.jwt.oidc_issuer);
const rsa = newKey("RS256", "rsa-1");
const ec = newKey("ES256", "ec-1");
idp.sets.main = [rsa, ec];
const mf = new Miniflare({
  modules: true,
  scriptPath: path.join(edge, "build/index.js"),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: "2026-04-01",
  kvNamespaces: ["GATEHOUSE_KV"],
  durableObjects: { LIMITER: { className: "LimiterObject", useSQLite: true }, REVOCATIONS: { className: "Revocations", useSQLite: true } },
  bindings: { GATEHOUSE_IDENTITY_SECRET: "identity-secret-0123456789", GATEHOUSE_USAGE_FLUSH_SECS: "300" },
  host: "127.0.0.1",
  port: 0,
  cf: false,
});
try {
  const base = String(await mf.ready).replace(/\/$/, "");
  const kv = await mf.getKVNamespace("GATEHOUSE_KV");
  for (const [k, v] of Object.entries(seed.kv)) await kv.put(k, v.replaceAll("__UPSTREAM__", upstream.url).replaceAll("__IDP__", idp.url));

  const get = async (p, headers) => {
    const res = await fetch(base + p, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
  };
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  const fresh = (key, alg, round) =>
    Array.from({ length: BLOCK }, (_, i) => signToken(key, claims(seed.jwt.issuer, { jti: `${alg}-${round}-${i}` }), { alg }));
  const warmToken = signToken(rsa, claims(seed.jwt.issuer, { jti: "warm" }));
  const keyHeaders = { "x-api-key": seed.secrets.jwtkey.secret };
  const cases = {
    public: () => () => get("/pets/health", {}),
    key: () => () => get("/jwt/either", keyHeaders),
    "jwt-warm": () => () => get("/jwt/either", bearer(warmToken)),
    "rs256-first": (round) => { const ts = fresh(rsa, "RS256", round); let i = 0; return () => get("/jwt/either", bearer(ts[i++])); },
    "es256-first": (round) => { const ts = fresh(ec, "ES256", round); let i = 0; return () => get("/jwt/either", bearer(ts[i++])); },
  };
  // Warm every path (key sets fetched, CryptoKeys imported, caches filled, JIT warmed).
  for (const [name, make] of Object.entries(cases)) {
    for (let b = 0; b < 2; b++) {
      const once = make(`warmup-${b}`);
      for (let i = 0; i < BLOCK; i++) await once();
    }
  }
  // Interleaved: each cycle runs a block of BLOCK requests of every case in turn, so a burst
  // of load from elsewhere on the machine hits every case alike; the differences are taken
  // within each cycle (paired) and their median is reported.
  const perCase = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    for (const [name, make] of Object.entries(cases)) {
      const once = make(cycle);
      const before = workerdCpuMs();
      for (let i = 0; i < BLOCK; i++) await once();
      perCase[name].push((workerdCpuMs() - before) / BLOCK);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const quartiles = (xs) => { const s = [...xs].sort((a, b) => a - b); return [s[Math.floor(s.length / 4)], s[Math.floor(s.length / 2)], s[Math.floor((3 * s.length) / 4)]]; };
  const f = (x) => `${x.toFixed(3)} ms`;
  console.log(`edge JWT bench: workerd CPU per request (/proc schedstat), ${CYCLES} interleaved cycles of ${BLOCK} sequential requests per case`);
  console.log(`  case         p25 / median / p75 of the cycles`);
  for (const [name, xs] of Object.entries(perCase)) console.log(`  ${name.padEnd(12)} ${quartiles(xs).map(f).join(" / ")}`);
  const added = (a, b) => median(perCase[a].map((x, i) => x - perCase[b][i]));
  const verdict = (x, goal) => `${f(x)} (goal ≤ ${goal} ms: ${x <= goal ? "met" : "MISSED"})`;
  console.log(`  added CPU, median of the per-cycle differences:`);
  console.log(`  warm RS256 token over an API key:          ${verdict(added("jwt-warm", "key"), 1)}`);
  console.log(`  warm RS256 token over no credential:       ${verdict(added("jwt-warm", "public"), 1)}`);
  console.log(`  first-sight RS256 token over an API key:   ${verdict(added("rs256-first", "key"), 2)}`);
  console.log(`  first-sight RS256 over a warm token:       ${f(added("rs256-first", "jwt-warm"))} (the WebCrypto verify, the token cache insert)`);
  console.log(`  first-sight ES256 token over an API key:   ${verdict(added("es256-first", "key"), 2)}`);
  console.log(`  JWKS fetches during the bench: ${idp.fetches.main}`);
} finally {
  await mf.dispose();
  upstream.close();
  idp.close();
}
