// Issue 17's journey: a stranger goes from the front page to a successful authenticated call
// through the gateway (the API page's try-it form), signing up on the way with a link read from a real SMTP server. The
// script counts the clicks and the seconds, prints them, and fails over the goal (6 clicks,
// 60 s). Every page visited is screenshotted and scanned by axe-core.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  env, launch, newContext, freshEmail, Tracked, waitForMail, signInLink, sessionCookie, waitForUsage,
} from "./lib.mjs";

const GOAL_CLICKS = 6;
const GOAL_SECONDS = 60;

test("a new developer goes from the front page to a successful call", { timeout: 180_000 }, async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const context = await newContext(browser);
  const page = await context.newPage();
  const dev = new Tracked(page, "journey");
  const email = freshEmail("newcomer");
  const started = Date.now();

  // The front page, typed into the address bar.
  await page.goto(`${env.portal}/`);
  await dev.check("catalog");

  await dev.click(page.getByRole("link", { name: "Gatehouse Demo" }), "Gatehouse Demo");
  const apiPath = new URL(page.url()).pathname;
  assert.match(apiPath, /^\/apis\/api_/);
  await dev.check("api");

  // Its changelog, linked from the page (visited by address: not one of the journey's clicks).
  assert.ok(await page.getByRole("link", { name: "Changelog" }).isVisible(), "the API page links its changelog");
  await page.goto(`${env.portal}${apiPath}/changelog`);
  await page.getByRole("heading", { level: 2, name: /^Revision 1 · version / }).waitFor();
  await dev.check("changelog");
  await page.goto(`${env.portal}${apiPath}`);

  // Signed out, the API's page asks for an email to send a sign-in link to.
  await page.getByLabel("Email").fill(email);
  await dev.click(page.getByRole("button", { name: "Email me a sign-in link" }), "Check your email");
  await dev.check("signin-sent");

  // The mail arrives on the SMTP server.
  const message = await waitForMail(email);
  assert.match(message.subject, /Sign in to/);
  const link = signInLink(message);
  // The developer clicks the link in their mail: shown here on a blank page (an opaque
  // origin, so to the portal the click comes from another site, as from a webmail).
  await page.goto("about:blank");
  await page.setContent(`<!doctype html><title>${message.subject}</title><pre></pre><a href="${link}">Sign in</a>`);
  await page.locator("pre").evaluate((pre, text) => { pre.textContent = text; }, message.text);
  const opened = page.waitForRequest((r) => r.url() === link);
  await dev.click(page.getByRole("link", { name: "Sign in", exact: true }), "Continue signing in");
  // Coming from another site, the browser holds back the SameSite=Strict form cookie it
  // has for the portal: the page must (and does) work without it.
  const sent = (await (await opened).allHeaders()).cookie ?? "";
  assert.ok(!sent.includes("__Host-gatehouse-form="), `a cross-site click sends no Strict cookie: ${sent}`);
  await dev.check("signin-verify");

  await dev.click(page.getByRole("button", { name: "Continue" }), "Gatehouse Demo");
  assert.equal(new URL(page.url()).pathname, apiPath, "back on the API's page after signing in");
  const cookie = await sessionCookie(context);
  assert.ok(cookie, "Chromium kept the __Host- session cookie on http://127.0.0.1");
  assert.deepEqual([cookie.secure, cookie.httpOnly, cookie.sameSite], [true, true, "Lax"]);
  await dev.check("api-signed-in");

  await dev.click(page.getByRole("button", { name: "Get a key" }).first(), "Gatehouse Demo");
  const secret = (await page.locator("#new-secret[data-secret]").textContent()).trim();
  assert.match(secret, /^[a-z]+_[a-z]+_[0-9A-Za-z]+_[0-9A-Za-z]+$/, "a key in the documented format is shown");
  await dev.check("api-new-key");

  // The try-it form of GET /hello, filled in with the key just shown: one click sends it.
  const tryIt = page.locator('form[data-try-it][data-method="GET"][data-path="/hello"]');
  assert.equal(await tryIt.locator("input[data-key]").inputValue(), secret, "try-it holds the new key");
  await dev.click(tryIt.getByRole("button", { name: "Send request" }));
  // "Sending…" until the answer is in, then "<status> <reason> · <time>".
  const status = tryIt.locator("[data-result] [data-status]", { hasText: /^\d{3}\b/ });
  await status.waitFor();
  assert.match(await status.textContent(), /^200\b/, "the call with the new key succeeds");
  assert.match(await tryIt.locator("[data-body-output]").textContent(), /Hello from the Gatehouse demo upstream/);

  // The goal counts the whole run, the test's own screenshots and axe scans included.
  const seconds = (Date.now() - started) / 1000;
  console.log(`journey: front page to a successful call in ${dev.clicks} clicks and ${seconds.toFixed(1)} s ` +
    `(${(dev.checkMs / 1000).toFixed(1)} s of it screenshots and axe scans; ` +
    `goal: at most ${GOAL_CLICKS} clicks and ${GOAL_SECONDS} s)`);
  assert.ok(dev.clicks <= GOAL_CLICKS, `${dev.clicks} clicks is over the goal of ${GOAL_CLICKS}`);
  assert.ok(seconds <= GOAL_SECONDS, `${seconds} s is over the goal of ${GOAL_SECONDS} s`);
  await dev.check("api-try-it-answer");

  await t.test("the dashboard and the app page show the new key", async () => {
    await dev.click(page.getByRole("link", { name: "Dashboard" }), "Your apps");
    await dev.check("dashboard");
    const shown = `${secret.slice(0, secret.indexOf("_", secret.indexOf("_") + 1) + 1)}`;
    assert.ok((await page.locator("table code").allTextContents()).some((c) => c.startsWith(shown)));
    await dev.click(page.getByRole("link", { name: "My app" }), "My app");
    await dev.check("app");
    assert.equal(await page.getByRole("cell", { name: "active" }).count(), 1, "one active key");
  });

  await t.test("the call shows on the usage page", async () => {
    const before = dev.clicks;
    await dev.click(page.getByRole("link", { name: "Usage" }), "Your usage");
    await page.getByLabel("Period").selectOption({ label: "Last hour" });
    await page.getByLabel("API", { exact: true }).selectOption({ label: "Gatehouse Demo" });
    await page.getByLabel("Operation id").fill("getHello");
    await dev.click(page.getByRole("button", { name: "Show" }), "Your usage");
    const totals = await waitForUsage(page, 1);
    assert.deepEqual(totals, { requests: 1, ok: 1 }, "the one call, and it succeeded");
    await dev.check("usage");
    console.log(`journey: the call found on the usage page ${dev.clicks - before} clicks later ` +
      `(${dev.clicks} in all, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  await t.test("the interactive reference loads under the CSP and passes axe", async () => {
    await page.goto(`${env.portal}${apiPath}`);
    await dev.click(page.getByRole("link", { name: "Interactive reference" }), "Gatehouse Demo: interactive reference");
    // Scalar renders the operations from the API's document once its script has run.
    await page.getByText("getHello").or(page.getByText("A greeting, never cached.")).first().waitFor();
    await dev.check("interactive");
  });

  dev.assertNoProblems();
});
