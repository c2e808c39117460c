// The provider's analytics in the browser: a developer calls the demo API a known number of
// times; an admin opens /admin/analytics, the charts are drawn, and each view's "Download CSV"
// gives exactly the rows of its table, whose numbers are the admin API's (GET /v1/usage). The
// page's weight, gzipped as a server would send it, is printed.
//
// Runs before admin.mjs, which deprecates the demo API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { env, launch, newContext, freshEmail, Tracked, signIn, waitForUsage } from "./lib.mjs";

const adminToken = () => readFileSync(process.env.ADMIN_TOKEN_FILE ?? "", "utf8").trim();
const CALLS = 7;

/** RFC 4180 as the `csv` crate writes it: quoted fields may hold commas, quotes and newlines. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else if (c !== "\r") field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** A view's table as the page shows it: header cells, then each row's cells. */
async function table(page, view) {
  const head = await page.locator(`table[data-view="${view}"] thead th`).allTextContents();
  const rows = [];
  for (const tr of await page.locator(`table[data-view="${view}"] tbody tr`).all()) {
    rows.push((await tr.locator("td").allTextContents()).map((c) => c.trim()));
  }
  return [head.map((h) => h.trim()), ...rows];
}

/** Clicks a view's "Download CSV" and answers the file's rows. */
async function download(page, view) {
  const section = page.locator(`section[aria-labelledby="view-${view}"]`);
  const [file] = await Promise.all([page.waitForEvent("download"), section.getByRole("link", { name: "Download CSV" }).click()]);
  assert.equal(file.suggestedFilename(), `${view}.csv`);
  return parseCsv(readFileSync(await file.path(), "utf8"));
}

test("the analytics page draws its charts and every CSV download is its table and the API's numbers", { timeout: 180_000 }, async (t) => {
  assert.ok(process.env.ADMIN_TOKEN_FILE, "ADMIN_TOKEN_FILE names gatehouse dev's admin token");
  const browser = await launch();
  t.after(() => browser.close());

  // A developer of their own, with a key called CALLS times.
  const devContext = await newContext(browser);
  const dev = new Tracked(await devContext.newPage(), "dana");
  const email = freshEmail("dana");
  await signIn(dev, email);
  await dev.page.goto(`${env.portal}/`);
  await dev.click(dev.page.getByRole("link", { name: "Gatehouse Demo" }), "Gatehouse Demo");
  const base = (await dev.page.locator("main p", { hasText: "Base URL:" }).locator("code").textContent()).trim();
  await dev.click(dev.page.getByRole("button", { name: "Get a key" }).first(), "Gatehouse Demo");
  const secret = (await dev.page.locator("#new-secret").textContent()).trim();
  for (let i = 0; i < CALLS; i++) {
    const status = (await devContext.request.get(`${base}/hello`, { headers: { "X-API-Key": secret } })).status();
    assert.equal(status, 200);
  }
  await dev.page.goto(`${env.portal}/usage?range=hour`);
  assert.equal((await waitForUsage(dev.page, CALLS)).requests, CALLS, "the calls are stored");

  const adminContext = await newContext(browser);
  const admin = new Tracked(await adminContext.newPage(), "admin");
  await admin.page.goto(`${env.portal}/admin/signin`);
  await admin.page.getByLabel("Admin token").fill(adminToken());
  await admin.click(admin.page.getByRole("button", { name: "Sign in" }), "Admin");

  // Every response of the page's load, for its weight.
  const bodies = [];
  admin.page.on("response", async (r) => { try { bodies.push({ url: r.url(), body: await r.body() }); } catch {} });
  await admin.page.goto(`${env.portal}/admin/analytics?range=hour`);
  await admin.page.waitForLoadState("networkidle");
  await admin.check("analytics");

  await t.test("the charts are drawn from the page's own figures", async () => {
    const charts = admin.page.locator(".analytics-chart");
    assert.ok((await charts.count()) >= 4, "requests, errors, latency, cache and bytes over time");
    await admin.page.locator(".analytics-chart[data-drawn=true] canvas").first().waitFor();
    const drawn = await admin.page.locator(".analytics-chart[data-drawn=true]").count();
    assert.equal(drawn, await charts.count(), "every chart is drawn");
    const series = JSON.parse(await charts.first().getAttribute("data-series"));
    const overTime = await table(admin.page, "series");
    const requestsColumn = overTime[0].indexOf("requests");
    const tableTotal = overTime.slice(1).reduce((n, row) => n + Number(row[requestsColumn]), 0);
    assert.equal(series[1].reduce((n, v) => n + v, 0), tableTotal, "the requests chart plots the Over time table");
  });

  await t.test("each CSV download holds exactly its table's rows", async () => {
    for (const view of ["series", "apis", "developers", "outcomes"]) {
      const shown = await table(admin.page, view);
      assert.deepEqual(await download(admin.page, view), shown, `the ${view} CSV is its table`);
    }
  });

  await t.test("the numbers are the admin API's", async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const get = async (path) => {
      const res = await adminContext.request.get(`${env.portal}${path}`, { headers: { Authorization: `Bearer ${adminToken()}` } });
      assert.equal(res.status(), 200, await res.text());
      return (await res.json()).items;
    };
    const report = (by) => get(`/v1/usage?group_by=total&by=${by}&from=${encodeURIComponent(from)}`);
    const demoId = (await get("/v1/apis")).find((api) => api.name === "Gatehouse Demo").id;
    const developers = await download(admin.page, "developers");
    const mine = developers.find((row) => row[0] === email);
    assert.ok(mine, `${email} is among the developers: ${JSON.stringify(developers)}`);
    assert.equal(Number(mine[developers[0].indexOf("requests")]), CALLS, "the developer's own calls, exactly");
    const apis = await download(admin.page, "apis");
    const demo = apis.find((row) => row[0] === "Gatehouse Demo");
    const fromApi = (await report("api")).find((row) => row.group === demoId);
    assert.ok(fromApi, "the API reports the demo API");
    assert.equal(Number(demo[apis[0].indexOf("requests")]), fromApi.requests, "the page and the API agree");
  });

  await t.test("the page's weight, gzipped", async () => {
    const own = bodies.filter((b) => b.url.startsWith(env.portal));
    const raw = own.reduce((n, b) => n + b.body.length, 0);
    const gzipped = own.reduce((n, b) => n + gzipSync(b.body).length, 0);
    console.log(`analytics page: ${own.length} responses, ${raw} bytes, ${gzipped} bytes gzipped`);
    assert.ok(own.some((b) => b.url.includes("uplot")), "the chart library is part of the load");
    assert.ok(gzipped < 100_000, `the dashboard stays light: ${gzipped} bytes gzipped`);
  });
  admin.assertNoProblems();
});
