// A real identity provider on 127.0.0.1 for the JWT tests and the bench: key pairs made with
// node:crypto, JWK Sets served per name (GET /<name>/jwks.json) that the test rotates, an
// OpenID Connect discovery document, fetch counts per name, and tokens signed here.
import { createServer } from "node:http";
import { constants, createHash, createHmac, generateKeyPairSync, sign } from "node:crypto";

const b64 = (data) => Buffer.from(typeof data === "string" ? data : JSON.stringify(data)).toString("base64url");

const GENERATE = {
  RS256: () => generateKeyPairSync("rsa", { modulusLength: 2048 }),
  ES256: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
  ES384: () => generateKeyPairSync("ec", { namedCurve: "P-384" }),
  EdDSA: () => generateKeyPairSync("ed25519"),
};

/** A signing key: `alg` is how it signs by default (an RSA key also signs PS256). */
export function newKey(alg, kid) {
  const { publicKey, privateKey } = GENERATE[alg]();
  return { alg, kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid } };
}

function signature(alg, key, input) {
  switch (alg) {
    case "RS256": return sign("sha256", Buffer.from(input), key.privateKey);
    case "RS384": return sign("sha384", Buffer.from(input), key.privateKey);
    case "RS512": return sign("sha512", Buffer.from(input), key.privateKey);
    case "PS256": return sign("sha256", Buffer.from(input), { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case "ES256": return sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
    case "ES384": return sign("sha384", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
    case "EdDSA": return sign(null, Buffer.from(input), key.privateKey);
    case "HS256": return createHmac("sha256", key.secret).update(input).digest();
    default: throw new Error(`cannot sign ${alg}`);
  }
}

/** A compact JWS of `claims` signed by `key` (`{secret}` for HS256); `header` adds or overrides. */
export function signToken(key, claims, { alg = key.alg, header = {} } = {}) {
  const input = `${b64({ alg, typ: "JWT", ...(key.kid ? { kid: key.kid } : {}), ...header })}.${b64(claims)}`;
  return `${input}.${signature(alg, key, input).toString("base64url")}`;
}

/** Claims a valid token carries for `issuer`, for the next five minutes. */
export function claims(issuer, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: "pets", sub: "user-7", client_id: "cli_edge", iat: now, exp: now + 300, ...extra };
}

/** KV key and value of a key set "another isolate fetched `ageMs` ago" (docs/edge.md, JWT). */
export function sharedCopy(url, keys, ageMs) {
  const value = { url, keys: { keys: keys.map((k) => k.jwk) }, cache_control: "public, max-age=600", fetched_at: Date.now() - ageMs };
  return [`jwks:${createHash("sha256").update(url).digest("hex")}`, JSON.stringify(value)];
}

/**
 * The provider. `sets[name]` is the list of keys `/<name>/jwks.json` publishes (change it to
 * rotate), `down` the names that answer 503, `delayMs[name]` a pause before answering, and
 * `fetches[name]` how many times each was asked for.
 */
export async function startIdp(oidcIssuer) {
  const sets = {}, fetches = {}, delayMs = {};
  const down = new Set();
  const server = createServer((req, res) => {
    const [, name, file] = req.url.split("?")[0].split("/");
    fetches[name] = (fetches[name] || 0) + 1;
    const send = (status, body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "cache-control": "public, max-age=600", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (down.has(name)) return send(503, { error: "down" });
    if (file === ".well-known") return send(200, { issuer: oidcIssuer, jwks_uri: `${idp.url}/${name}-keys/jwks.json` });
    const keys = sets[name];
    if (!keys) return send(404, { error: "no such set" });
    setTimeout(() => send(200, { keys: keys.map((k) => k.jwk) }), delayMs[name] || 0);
  });
  const port = await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
  const idp = { url: `http://127.0.0.1:${port}`, sets, fetches, down, delayMs, close: () => server.close() };
  return idp;
}
