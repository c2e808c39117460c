// The real AWS control plane for tests at the edge: moto (the DynamoDB emulator) and the
// admin Lambda's router served over HTTP (aws/examples/control_plane_http.rs), whose
// KvPublisher writes through the Cloudflare API stand-in (cloudflare.mjs) into the Worker's KV.
// scripts/test-edge.sh builds the binary and installs moto, and names them in
// GATEHOUSE_CONTROL_PLANE_BIN, GATEHOUSE_MOTO_PYTHON and GATEHOUSE_MOTO_SCRIPT; a missing one
// fails the test with what to run, never skips it.
import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { createInterface } from "node:readline";

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/test-edge.sh, which builds and installs what this test starts`);
  return value;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForPort(port, child, what) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => { socket.end(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within 30 s`);
    await sleep(100);
  }
}

/** Starts moto on a free port; answers its endpoint and a stop function. */
export async function startMoto() {
  const port = await freePort();
  const child = spawn(need("GATEHOUSE_MOTO_PYTHON"), [need("GATEHOUSE_MOTO_SCRIPT"), "-H", "127.0.0.1", "-p", String(port)],
    { stdio: "ignore" });
  await waitForPort(port, child, "moto");
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/**
 * Starts the control plane with the Lambda's own settings: DynamoDB at `dynamodb`, Workers KV
 * through `cloudflare.apiBase`, revocation notices to the Worker at `edgeUrl`. Answers its
 * URL, an admin call helper and a stop function. Its logs go to this process's stderr.
 */
export async function startControlPlane({ dynamodb, cloudflare, edgeUrl, adminToken, controlSecret }) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_LOG: "warn",
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    GATEHOUSE_CATALOG_TABLE: "gatehouse-catalog",
    GATEHOUSE_USAGE_TABLE: "gatehouse-usage",
    GATEHOUSE_ADMIN_TOKENS: adminToken,
    GATEHOUSE_CF_API_BASE: cloudflare.apiBase,
    GATEHOUSE_CF_ACCOUNT_ID: cloudflare.accountId,
    GATEHOUSE_CF_KV_NAMESPACE_ID: cloudflare.namespaceId,
    GATEHOUSE_CF_API_TOKEN: cloudflare.token,
    GATEHOUSE_EDGE_URL: edgeUrl,
    GATEHOUSE_CONTROL_SECRET: controlSecret,
  };
  const child = spawn(need("GATEHOUSE_CONTROL_PLANE_BIN"), [], { env, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the control plane did not start within 60 s")), 60_000);
    child.on("exit", (code) => reject(new Error(`the control plane exited with ${code}`)));
    lines.on("line", (line) => {
      const found = line.match(/^listening on (http:\/\/\S+)$/);
      if (found) { clearTimeout(timer); resolve(found[1]); } else process.stderr.write(`control plane: ${line}\n`);
    });
  });
  async function admin(method, path, body) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  return { url, admin, stop: () => child.kill() };
}
