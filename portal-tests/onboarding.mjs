// Issue 23's partner onboarding: the provider invites a partner organisation; its admin
// receives the mail on a real SMTP server, accepts (signing up on the way), sees the
// partner-only API beside the public one, creates the organisation's app, subscribes under a
// plan that needs approval, the provider approves, and the partner's first call through the
// gateway answers 200. The partner's clicks and the seconds from the invitation to that
// first 200 are printed; the goal is at most 10 clicks and 2 minutes.
//
// The provider's steps go through the admin API (as `gatehouse` CLI or config would); only
// the partner's clicks are counted. Runs before admin.mjs, which deprecates the demo API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { env, launch, newContext, freshEmail, Tracked, waitForMail } from "./lib.mjs";

const GOAL_CLICKS = 10;
const GOAL_SECONDS = 120;
const adminToken = () => readFileSync(process.env.ADMIN_TOKEN_FILE ?? "", "utf8").trim();

/** The provider's admin API call; answers the JSON body (fails on an error status). */
async function provider(method, path, body) {
  const response = await fetch(`${env.portal}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A partner-only copy of the demo API (same upstream), in a product for `organisation`. */
async function partnerApi(organisation, tag) {
  const apis = await provider("GET", "/v1/apis");
  const demo = apis.items.find((a) => a.name === "Gatehouse Demo");
  assert.ok(demo, "the demo API that gatehouse dev imports");
  const full = await provider("GET", `/v1/apis/${demo.id}`);
  const openapi = { ...full.openapi, info: { ...full.openapi.info, title: `Partner Orders ${tag}` } };
  const api = await provider("POST", "/v1/apis", { openapi, base_path: `/partner-${tag}`, upstream: full.upstream });
  await provider("POST", `/v1/apis/${api.id}/lifecycle`, { action: "publish" });
  const product = await provider("POST", "/v1/products", {
    name: `Partner program ${tag}`, items: [{ api_id: api.id }], audience: { organisations: [organisation] },
  });
  await provider("POST", "/v1/plans", { product_id: product.id, name: "Partner", requires_approval: true });
  return api;
}

test("a partner organisation goes from the invitation to its first call", { timeout: 240_000 }, async (t) => {
  assert.ok(process.env.ADMIN_TOKEN_FILE, "ADMIN_TOKEN_FILE names gatehouse dev's admin token");
  const tag = Date.now().toString(36);
  const orgName = `Acme ${tag}`;
  const org = await provider("POST", "/v1/organisations", { name: orgName, tier: "partners" });
  const api = await partnerApi(orgName, tag);
  const stranger = await (await fetch(`${env.portal}/`)).text();
  assert.ok(!stranger.includes(api.name), "anonymous visitors do not see the partner API");

  const browser = await launch();
  t.after(() => browser.close());
  const page = await (await newContext(browser)).newPage();
  const partner = new Tracked(page, "onboarding");
  const email = freshEmail("partner-lead");

  const started = Date.now();
  await provider("POST", `/v1/organisations/${org.id}/invitations`, { email, role: "org-admin" });
  const message = await waitForMail(email);
  assert.match(message.subject, new RegExp(`Join ${orgName}`));
  const links = message.text.match(/https?:\/\/\S+\/invitations\/accept\?token=[0-9a-f]+/g) ?? [];
  assert.equal(links.length, 1, `one invitation link: ${message.text}`);

  // The partner clicks the link in their mail (from another site, as in a webmail).
  await page.setContent(`<!doctype html><title>${message.subject}</title><a href="${links[0]}">Accept</a>`);
  await partner.click(page.getByRole("link", { name: "Accept" }), "Accept the invitation");
  await partner.check("invitation");
  await partner.click(page.getByRole("button", { name: "Accept and sign in" }), orgName);
  await partner.check("organisation");

  await page.getByLabel("New app name").fill("Acme ERP");
  await partner.click(page.getByRole("button", { name: "Create app" }), "Acme ERP");
  const appId = new URL(page.url()).pathname.split("/").pop();

  // The catalog shows the partner-only API beside the public one.
  await partner.click(page.getByRole("link", { name: "APIs", exact: true }));
  await partner.check("catalog");
  assert.ok(await page.getByRole("link", { name: api.name }).isVisible(), "the partner API is listed");
  assert.ok(await page.getByRole("link", { name: "Gatehouse Demo" }).isVisible(), "beside the public one");
  await partner.click(page.getByRole("link", { name: api.name }), api.name);

  await page.getByLabel("for", { exact: true }).first().selectOption({ label: `Acme ERP (${orgName})` });
  partner.clicks += 1; // choosing the app in the list
  await partner.click(page.getByRole("button", { name: "Get a key for the Partner plan" }), api.name);
  const secret = (await page.locator("#new-secret[data-secret]").textContent()).trim();
  assert.match(await page.locator("main").textContent(), /needs the provider's approval/);
  await partner.check("api-new-key");

  // The provider approves the organisation app's subscription.
  const subs = await provider("GET", `/v1/apps/${appId}/subscriptions`);
  assert.equal(subs.items.length, 1);
  assert.equal(subs.items[0].status, "pending");
  await provider("POST", `/v1/subscriptions/${subs.items[0].id}/approve`);

  // The first call: the try-it form on the API's page, filled in with the key just shown.
  const tryIt = page.locator('form[data-try-it][data-method="GET"][data-path="/hello"]');
  assert.equal(await tryIt.locator("input[data-key]").inputValue(), secret);
  let answered = "";
  for (let attempt = 0; attempt < 20 && !/^200\b/.test(answered); attempt++) {
    if (attempt > 0) await page.waitForTimeout(250); // the approval reaching the gateway
    await partner.click(tryIt.getByRole("button", { name: "Send request" }));
    const status = tryIt.locator("[data-result] [data-status]", { hasText: /^\d{3}\b/ });
    await status.waitFor();
    answered = await status.textContent();
  }
  assert.match(answered, /^200\b/, "the partner's first call succeeds");
  const seconds = (Date.now() - started) / 1000;
  await partner.check("first-call");
  console.log(`onboarding: invitation to the first 200 in ${partner.clicks} clicks and ${seconds.toFixed(1)} s ` +
    `(${(partner.checkMs / 1000).toFixed(1)} s of it screenshots and axe scans; ` +
    `goal: at most ${GOAL_CLICKS} clicks and ${GOAL_SECONDS} s)`);
  assert.ok(partner.clicks <= GOAL_CLICKS, `${partner.clicks} clicks is over the goal of ${GOAL_CLICKS}`);
  assert.ok(seconds <= GOAL_SECONDS, `${seconds} s is over the goal of ${GOAL_SECONDS} s`);

  // The organisation's page lists its app with the key; the key belongs to the app.
  await partner.click(page.getByRole("link", { name: "Dashboard" }), "Your apps");
  await partner.click(page.getByRole("link", { name: orgName }), orgName);
  assert.ok(await page.getByRole("link", { name: "Acme ERP" }).isVisible());
  partner.assertNoProblems();
});
