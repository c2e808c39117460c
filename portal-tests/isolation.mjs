// Two developers in two browsers: neither can see or touch the other's app and keys, by URL
// or by tampering with a form; a form without its session's token is refused; a sign-in
// link works once and not after it expires.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  env, launch, newContext, freshEmail, Tracked, signIn, requestLink, sessionCookie, usageTotals, waitForUsage,
} from "./lib.mjs";

/** A developer signed in in a browser context of their own, with a key for the demo API. */
async function developerWithKey(browser, who) {
  const context = await newContext(browser);
  const tracked = new Tracked(await context.newPage(), who);
  const link = await signIn(tracked, freshEmail(who));
  const { page } = tracked;
  await page.goto(`${env.portal}/`);
  await tracked.click(page.getByRole("link", { name: "Gatehouse Demo" }), "Gatehouse Demo");
  await tracked.click(page.getByRole("button", { name: "Get a key" }).first(), "Gatehouse Demo");
  const secret = (await page.locator("#new-secret").textContent()).trim();
  await page.goto(`${env.portal}/dashboard`);
  await tracked.click(page.getByRole("link", { name: "My app" }), "My app");
  const appPath = new URL(page.url()).pathname;
  const revokeAction = await page.locator('form[action$="/revoke"]').getAttribute("action");
  const keyId = revokeAction.split("/")[2];
  return { context, tracked, page, link, secret, appPath, keyId };
}

/** Clicks `button` (a form's submit) and answers the status of the POST it sends to `path`. */
async function postStatus(tracked, button, path) {
  const answer = tracked.page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path);
  await tracked.click(button);
  return (await answer).status();
}

/** What the gateway answers `secret` (outside the page: no CORS involved). */
async function gatewayStatus(context, page, secret) {
  await page.goto(`${env.portal}/`);
  await page.getByRole("link", { name: "Gatehouse Demo" }).click();
  const base = (await page.locator("main p", { hasText: "Base URL:" }).locator("code").textContent()).trim();
  return (await context.request.get(`${base}/hello`, { headers: { "X-API-Key": secret } })).status();
}

/** The keys listed on an app page, as "shown status" lines. */
async function keyRows(page, appPath) {
  await page.goto(`${env.portal}${appPath}`);
  return page.locator("table tbody tr").evaluateAll((rows) =>
    rows.map((r) => `${r.cells[1].textContent.trim()} ${r.cells[2].textContent.trim()}`),
  );
}

test("developers are isolated from each other; forms need their token; links work once", { timeout: 180_000 }, async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const a = await developerWithKey(browser, "alice");
  const b = await developerWithKey(browser, "bob");
  const aliceKeysBefore = await keyRows(a.page, a.appPath);
  assert.equal(aliceKeysBefore.length, 1);
  assert.match(aliceKeysBefore[0], / active$/);
  assert.equal(await gatewayStatus(a.context, a.page, a.secret), 200, "alice's key works before");

  await t.test("another developer's app is not found by its URL", async () => {
    const response = await b.page.goto(`${env.portal}${a.appPath}`);
    assert.equal(response.status(), 404);
    await b.tracked.check("other-app-by-url");
    const html = await b.page.content();
    assert.ok(!html.includes(a.keyId) && !html.includes(aliceKeysBefore[0].split(" ")[0]), "nothing of alice's shows");
    await b.page.goto(`${env.portal}/dashboard`);
    assert.ok(!(await b.page.content()).includes(a.appPath), "bob's dashboard does not list alice's app");
  });

  await t.test("another developer's key cannot be revoked, rotated or added to by tampering with a form", async () => {
    const forms = [
      ['form[action$="/revoke"]', `/keys/${a.keyId}/revoke`, "Revoke"],
      ['form[action$="/rotate"]', `/keys/${a.keyId}/rotate`, "Rotate"],
      ['form[action^="/apps/"][action$="/keys"]', `${a.appPath}/keys`, "Create key"],
    ];
    for (const [selector, target, button] of forms) {
      await b.page.goto(`${env.portal}${b.appPath}`);
      const form = b.page.locator(selector);
      await form.evaluate((f, action) => f.setAttribute("action", action), target);
      const status = await postStatus(b.tracked, form.getByRole("button", { name: button }), target);
      assert.equal(status, 404, `bob's tampered ${button} form is answered 404`);
    }
    await b.tracked.check("tampered-form");
    assert.deepEqual(await keyRows(a.page, a.appPath), aliceKeysBefore, "alice's keys are unchanged");
    assert.equal(await gatewayStatus(a.context, a.page, a.secret), 200, "alice's key still works");
  });

  await t.test("another developer's usage is never shown, even asked for by its app and key ids", async () => {
    // Alice's two calls (before and after the tampering) are in her usage...
    await a.page.goto(`${env.portal}/usage?range=hour`);
    assert.deepEqual(await waitForUsage(a.page, 2), { requests: 2, ok: 2 });
    // ...and in nobody else's, however Bob asks.
    const appId = a.appPath.split("/")[2];
    for (const query of ["range=hour", `range=hour&app=${appId}`, `range=hour&key=${a.keyId}`]) {
      await b.page.goto(`${env.portal}/usage?${query}`);
      assert.deepEqual(await usageTotals(b.page), { requests: 0, ok: 0 }, `bob's usage with ${query}`);
      const offered = await b.page.locator(`option[value="${appId}"], option[value="${a.keyId}"]`).count();
      assert.equal(offered, 0, "alice's app and key are not offered to bob");
      const aliceKeyShown = aliceKeysBefore[0].split(" ")[0];
      assert.ok(!(await b.page.content()).includes(aliceKeyShown.split("…")[1]), "nor is her key's end");
    }
    await b.tracked.check("usage-of-another");
    const csv = await b.context.request.get(`${env.portal}/usage.csv?range=hour&app=${appId}&key=${a.keyId}`);
    assert.equal(csv.status(), 200);
    assert.deepEqual((await csv.text()).trim().split("\n").length, 1, "bob's CSV has the header row only");
    const alices = await a.context.request.get(`${env.portal}/usage.csv?range=hour`);
    assert.ok((await alices.text()).trim().split("\n").length > 1, "alice's own CSV has her calls");
  });

  await t.test("a form without the session's token, or with another session's, is refused", async () => {
    await a.page.goto(`${env.portal}${a.appPath}`);
    const revoke = a.page.locator('form[action$="/revoke"]');
    await revoke.locator('input[name="csrf"]').evaluate((input) => input.remove());
    const path = `/keys/${a.keyId}/revoke`;
    assert.equal(await postStatus(a.tracked, revoke.getByRole("button", { name: "Revoke" }), path), 403);
    await a.tracked.check("form-without-token");

    await b.page.goto(`${env.portal}${b.appPath}`);
    const bobsToken = await b.page.locator('input[name="csrf"]').first().inputValue();
    await a.page.goto(`${env.portal}${a.appPath}`);
    await revoke.locator('input[name="csrf"]').evaluate((input, token) => { input.value = token; }, bobsToken);
    assert.equal(await postStatus(a.tracked, revoke.getByRole("button", { name: "Revoke" }), path), 403);
    assert.deepEqual(await keyRows(a.page, a.appPath), aliceKeysBefore, "alice's key was not revoked");

    const anonymous = new Tracked(await (await newContext(browser)).newPage(), "anonymous");
    await anonymous.page.goto(`${env.portal}/signin`);
    await anonymous.check("signin");
    await anonymous.page.getByLabel("Email").fill("not an address");
    const sent = anonymous.page.getByRole("button", { name: "Email me a sign-in link" });
    assert.equal(await postStatus(anonymous, sent, "/signin"), 422, "a bad address is answered on the form");
    await anonymous.check("signin-bad-address");
    await anonymous.page.getByLabel("Email").fill(freshEmail("nobody"));
    await anonymous.page.locator('input[name="csrf"]').evaluate((input) => input.remove());
    const signInButton = anonymous.page.getByRole("button", { name: "Email me a sign-in link" });
    assert.equal(await postStatus(anonymous, signInButton, "/signin"), 403, "the sign-in form needs its token");
    await anonymous.page.context().close();
  });

  await t.test("a sign-in link that was used already is refused", async () => {
    const context = await newContext(browser);
    const tracked = new Tracked(await context.newPage(), "reused-link");
    await tracked.page.goto(a.link);
    const status = await postStatus(tracked, tracked.page.getByRole("button", { name: "Continue" }), "/signin/verify");
    assert.equal(status, 410);
    await tracked.page.getByRole("heading", { level: 1, name: "Link expired" }).waitFor();
    await tracked.check("reused-link");
    assert.equal(await sessionCookie(context), undefined, "no session was opened");
    await context.close();
  });

  await t.test("a sign-in link is refused once it expires, and works before", { skip: !env.shortLinkPortal }, async () => {
    const ttl = env.shortLinkTtlSecs;
    assert.ok(ttl > 0 && ttl <= 20, "the short-link portal's lifetime is known");
    const context = await newContext(browser);
    const tracked = new Tracked(await context.newPage(), "expired-link");
    const email = freshEmail("late");

    // Used at once, the short-lived link works: what refuses the next one is its age.
    const fresh = await requestLink(tracked, env.shortLinkPortal, email, 1);
    await tracked.page.goto(fresh);
    await tracked.click(tracked.page.getByRole("button", { name: "Continue" }), "Your apps");
    await context.clearCookies();

    const asked = Date.now();
    const stale = await requestLink(tracked, env.shortLinkPortal, email, 2);
    await tracked.page.goto(stale);
    await tracked.page.waitForTimeout(Math.max(0, asked + ttl * 1000 + 1000 - Date.now()));
    const status = await postStatus(tracked, tracked.page.getByRole("button", { name: "Continue" }), "/signin/verify");
    assert.equal(status, 410);
    await tracked.check("expired-link");
    assert.equal(await sessionCookie(context), undefined, "no session was opened");
    await context.close();
  });

  a.tracked.assertNoProblems();
  b.tracked.assertNoProblems();
});
