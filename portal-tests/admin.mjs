// The provider's side and a developer's own data, in the browser: an admin signs in with the
// admin token and deprecates the API a developer has been calling; the developer is mailed
// once, sees the banner on their dashboard, downloads their data and closes their account,
// after which their key is refused; then the API is retired. Every page is scanned by axe.
//
// Runs after journey.mjs and isolation.mjs: it deprecates the demo API of their server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  env, launch, newContext, freshEmail, Tracked, signIn, waitForMail, waitForUsage,
} from "./lib.mjs";

const adminToken = () => readFileSync(process.env.ADMIN_TOKEN_FILE ?? "", "utf8").trim();

/** The status the gateway answers `secret` with, called from outside the page. */
async function call(context, base, secret) {
  return (await context.request.get(`${base}/hello`, { headers: { "X-API-Key": secret } })).status();
}

test("an admin deprecates an API its callers hear of; a developer takes their data and leaves", { timeout: 180_000 }, async (t) => {
  assert.ok(process.env.ADMIN_TOKEN_FILE, "ADMIN_TOKEN_FILE names gatehouse dev's admin token");
  const browser = await launch();
  t.after(() => browser.close());

  // A developer with a key, who calls the API twice.
  const devContext = await newContext(browser);
  const dev = new Tracked(await devContext.newPage(), "carol");
  const email = freshEmail("carol");
  await signIn(dev, email);
  await dev.page.goto(`${env.portal}/`);
  await dev.click(dev.page.getByRole("link", { name: "Gatehouse Demo" }), "Gatehouse Demo");
  const apiPath = new URL(dev.page.url()).pathname;
  const base = (await dev.page.locator("main p", { hasText: "Base URL:" }).locator("code").textContent()).trim();
  await dev.click(dev.page.getByRole("button", { name: "Get a key" }).first(), "Gatehouse Demo");
  const secret = (await dev.page.locator("#new-secret").textContent()).trim();
  assert.deepEqual([await call(devContext, base, secret), await call(devContext, base, secret)], [200, 200]);
  await dev.page.goto(`${env.portal}/usage?range=hour`);
  assert.equal((await waitForUsage(dev.page, 2)).requests, 2, "the calls are counted before the deprecation");

  const adminContext = await newContext(browser);
  const admin = new Tracked(await adminContext.newPage(), "admin");

  await t.test("an admin signs in with the admin token and deprecates the API", async () => {
    await admin.page.goto(`${env.portal}/admin/signin`);
    await admin.check("signin");
    await admin.page.getByLabel("Admin token").fill(adminToken());
    await admin.click(admin.page.getByRole("button", { name: "Sign in" }), "Admin");
    await admin.check("admin");
    const row = admin.page.getByRole("row").filter({ hasText: "Gatehouse Demo" });
    await row.getByLabel("Sunset date").fill("2099-01-31");
    await row.getByLabel("Successor URL").first().fill(`${env.portal}/`);
    await admin.click(row.getByRole("button", { name: "Deprecate" }), "Admin");
    await admin.page.getByRole("row").filter({ hasText: "Gatehouse Demo" }).getByText("deprecated").waitFor();
    await admin.check("admin-deprecated");
    await admin.click(admin.page.getByRole("link", { name: "Audit trail" }), "Audit trail");
    await admin.page.getByLabel("Action (e.g. key.revoke, or key. for all key actions)").fill("api.");
    await admin.click(admin.page.getByRole("button", { name: "Filter" }), "Audit trail");
    const entry = admin.page.getByRole("row").filter({ hasText: "api.lifecycle" });
    await entry.first().waitFor();
    assert.match(await entry.first().textContent(), /owner/, "the entry names the principal's role");
    await admin.check("admin-audit");
  });

  await t.test("the API's caller is mailed once and warned on the dashboard and the API's page", async () => {
    const notice = await waitForMail(email, 2);
    assert.equal(notice.subject, "Gatehouse Demo is deprecated");
    assert.match(notice.text, /It stops working on 2099-01-31\./);
    assert.match(notice.text, /your app My app called it 2 times/);
    await dev.page.goto(`${env.portal}/dashboard`);
    const banner = dev.page.getByRole("note").filter({ hasText: "Gatehouse Demo is deprecated" });
    await banner.waitFor();
    assert.match(await banner.textContent(), /Your app My app called this API 2 times this week\.\s+It stops working on 2099-01-31\./);
    await dev.check("dashboard-deprecated");
    await dev.page.goto(`${env.portal}${apiPath}`);
    await dev.page.getByRole("note").filter({ hasText: "This API is deprecated." }).waitFor();
    await dev.check("api-deprecated");
    await dev.page.waitForTimeout(1500); // a second notice would have arrived by now
    assert.equal((await waitForMail(email, 2)).subject, notice.subject);
    await assert.rejects(waitForMail(email, 3, 200), /no message number 3/, "the notice is sent once");
  });

  await t.test("the developer downloads their data (no secret in it) and closes the account", async () => {
    await dev.click(dev.page.getByRole("link", { name: email }), "Your account");
    await dev.check("account");
    await dev.click(dev.page.getByRole("link", { name: "Activity on your account" }), "Activity on your account");
    await dev.page.getByRole("row").filter({ hasText: "session.sign_in" }).first().waitFor();
    await dev.check("account-activity");
    await dev.click(dev.page.getByRole("link", { name: "Back to your account" }), "Your account");
    const exported = await devContext.request.get(`${env.portal}/account/export.json`);
    assert.equal(exported.status(), 200);
    const text = await exported.text();
    assert.ok(text.includes(email), "the export holds the profile");
    assert.ok(!text.includes(secret), "the export never holds a key's secret");
    await dev.page.getByLabel("Type your email address to confirm").fill(email);
    await dev.click(dev.page.getByRole("button", { name: "Close my account" }));
    await dev.page.waitForLoadState("load");
    await dev.check("closed");
    const status = await call(devContext, base, secret);
    assert.ok(status === 401 || status === 403, `the closed account's key is refused at once (got ${status})`);
  });

  await t.test("a retired API leaves the catalog; its page stays, says so and names the successor", async () => {
    await admin.page.goto(`${env.portal}/admin`);
    const row = admin.page.getByRole("row").filter({ hasText: "Gatehouse Demo" });
    await row.getByLabel("Successor URL").last().fill(`${env.portal}/?q=successor`);
    await admin.click(row.getByRole("button", { name: "Retire" }), "Admin");
    await admin.page.getByRole("row").filter({ hasText: "Gatehouse Demo" }).getByText("retired").waitFor();
    const visitor = new Tracked(await (await newContext(browser)).newPage(), "visitor");
    await visitor.page.goto(`${env.portal}/`);
    assert.equal(await visitor.page.getByRole("link", { name: "Gatehouse Demo" }).count(), 0, "not in the catalog");
    await visitor.check("catalog-after-retirement");
    await visitor.page.goto(`${env.portal}${apiPath}`);
    const note = visitor.page.getByRole("note").filter({ hasText: "This API is retired" });
    await note.waitFor();
    assert.equal(await note.getByRole("link", { name: "its successor" }).getAttribute("href"), `${env.portal}/?q=successor`);
    assert.equal(await visitor.page.getByRole("button", { name: "Email me a sign-in link" }).count(), 0, "no key offered");
    await visitor.check("api-retired");
    visitor.assertNoProblems();
  });

  dev.assertNoProblems();
  admin.assertNoProblems();
});
