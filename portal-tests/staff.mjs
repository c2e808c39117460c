// Staff sign in to the admin area with the company's identity provider — a real OpenID
// provider (oidc-provider under node, started by scripts/test-portal.sh) — and land there with
// the role their groups map to; a staff member whose groups map to no role is refused with a
// page that says why. The same server limits developer sign-up to the company's domain.
// Prints the clicks and seconds a staff sign-in takes. Every Gatehouse page is scanned by axe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, newContext, Tracked } from "./lib.mjs";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/test-portal.sh`);
  return value.replace(/\/$/, "");
}
const portal = required("STAFF_PORTAL_URL");
const issuer = required("OIDC_ISSUER");

/** From the admin sign-in page through the provider's login as `login`, back to Gatehouse. */
async function staffSignIn(tracked, login) {
  await tracked.page.goto(`${portal}/admin/signin`);
  await tracked.click(tracked.page.getByRole("link", { name: "Sign in with Corp SSO" }));
  assert.ok(tracked.page.url().startsWith(`${issuer}/`), `at the identity provider: ${tracked.page.url()}`);
  await tracked.page.locator("input[name=login]").fill(login);
  await tracked.page.locator("input[name=password]").fill("any password");
  await tracked.click(tracked.page.getByRole("button", { name: "Sign-in" }));
  assert.ok(tracked.page.url().startsWith(`${portal}/`), `back at Gatehouse: ${tracked.page.url()}`);
}

test("staff sign in with the identity provider and land in the admin area with their role", { timeout: 120_000 }, async (t) => {
  const browser = await launch();
  t.after(() => browser.close());

  await t.test("an owner by group signs in and is named in the audit trail", async () => {
    const alice = new Tracked(await (await newContext(browser)).newPage(), "alice");
    await alice.page.goto(`${portal}/admin/signin`);
    await alice.check("signin");
    const started = Date.now();
    await staffSignIn(alice, "alice");
    await alice.page.getByRole("heading", { level: 1, name: "Admin" }).waitFor();
    const seconds = (Date.now() - started) / 1000;
    assert.equal(new URL(alice.page.url()).pathname, "/admin");
    const who = alice.page.locator("main p", { hasText: "Signed in as" });
    assert.equal((await who.locator("strong").textContent()).trim(), "staff:alice@corp.test");
    assert.equal((await who.locator(".badge").textContent()).trim(), "owner");
    assert.ok(await alice.page.getByRole("button", { name: "Deprecate" }).count() > 0, "an owner gets the lifecycle forms");
    await alice.check("admin");
    console.log(`staff sign-in through the identity provider: ${alice.clicks} clicks, ${seconds.toFixed(1)} s`);
    assert.ok(alice.clicks <= 2, "one click to leave, one to sign in at the provider");

    await alice.click(alice.page.getByRole("link", { name: "Audit trail" }), "Audit trail");
    const entry = alice.page.getByRole("row").filter({ hasText: "session.sign_in" }).filter({ hasText: "staff:alice@corp.test" });
    await entry.first().waitFor();
    await alice.check("audit");
    alice.assertNoProblems();
  });

  await t.test("an approver by group gets the approver's page, without the owner's forms", async () => {
    const bob = new Tracked(await (await newContext(browser)).newPage(), "bob");
    await staffSignIn(bob, "bob");
    await bob.page.getByRole("heading", { level: 1, name: "Admin" }).waitFor();
    const who = bob.page.locator("main p", { hasText: "Signed in as" });
    assert.equal((await who.locator(".badge").textContent()).trim(), "approver");
    assert.equal(await bob.page.getByRole("button", { name: "Deprecate" }).count(), 0, "no lifecycle forms");
    await bob.check("admin-approver");
    bob.assertNoProblems();
  });

  await t.test("staff whose groups map to no role are refused with a page that says why", async () => {
    const eve = new Tracked(await (await newContext(browser)).newPage(), "eve");
    await staffSignIn(eve, "eve");
    await eve.page.getByRole("heading", { level: 1, name: "No Gatehouse role for your account" }).waitFor();
    assert.match(await eve.page.locator("main").textContent(), /eve@corp\.test .*none of the account's groups/s);
    await eve.check("no-role");
    await eve.page.goto(`${portal}/admin`);
    assert.equal(new URL(eve.page.url()).pathname, "/admin/signin", "no session was opened");
    eve.assertNoProblems();
  });

  await t.test("developer sign-up outside the company's domain is refused on the sign-in page", async () => {
    const mallory = new Tracked(await (await newContext(browser)).newPage(), "mallory");
    await mallory.page.goto(`${portal}/signin`);
    await mallory.page.getByText("New accounts are open to addresses at corp.test").waitFor();
    await mallory.page.getByLabel("Email").fill("mallory@elsewhere.test");
    await mallory.click(mallory.page.getByRole("button", { name: "Email me a sign-in link" }), "Sign in or sign up");
    const alert = mallory.page.getByRole("alert");
    assert.match(await alert.textContent(), /New accounts are open to addresses at corp\.test only/);
    await mallory.check("signup-refused");
    mallory.assertNoProblems();
  });
});
