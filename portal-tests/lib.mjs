// What the portal's browser tests share: where the servers are, the browser, the mailbox the
// SMTP server fills, and the check every visited page gets (a full-page screenshot and an
// axe-core scan that fails on any serious or critical violation).
//
// scripts/test-portal.sh starts the servers and sets the environment read here.
import { readFileSync, readdirSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/test-portal.sh`);
  return value.replace(/\/$/, "");
}

export const env = {
  /** The portal (gatehouse dev's control-plane address), e.g. http://127.0.0.1:40123. */
  portal: required("PORTAL_URL"),
  /** A second gatehouse dev whose sign-in links last a few seconds (for the expiry test). */
  shortLinkPortal: process.env.SHORT_LINK_PORTAL_URL?.replace(/\/$/, ""),
  shortLinkTtlSecs: Number(process.env.SHORT_LINK_TTL_SECS ?? "0"),
  /** Where the SMTP server stores each message as JSON. */
  mailbox: required("MAILBOX_DIR"),
  screenshots: required("SCREENSHOT_DIR"),
  chromium: process.env.CHROMIUM ?? "/usr/bin/chromium",
};

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Chromium from the system (playwright-core downloads no browser). */
export function launch() {
  return chromium.launch({ executablePath: env.chromium, headless: true, timeout: 30_000 });
}

/** A new browser context with bounded waits; tests make one per developer. */
export async function newContext(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

/** A unique address per run and person, so no two tests share an account or a throttle. */
export function freshEmail(who) {
  return `${who}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

let shotNumber = 0;
/** The test file running (each runs in its own process), to name its screenshots. */
const testFile = basename(process.argv[1] ?? "test", ".mjs");
/** Every page checked, with its axe counts, for the summary printed at the end. */
export const axeResults = [];

/**
 * Follows a page: records script errors and Content-Security-Policy refusals (a strict CSP
 * must not break the portal's own pages), and counts the clicks made through it.
 */
export class Tracked {
  constructor(page, label) {
    this.page = page;
    this.label = label;
    this.clicks = 0;
    /** Milliseconds spent in `check` (screenshots and scans), which no visitor waits for. */
    this.checkMs = 0;
    this.problems = [];
    page.on("pageerror", (e) => this.problems.push(`script error on ${page.url()}: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) {
        this.problems.push(`CSP refusal on ${page.url()}: ${m.text()}`);
      }
    });
  }

  /**
   * Clicks like a person (counted); with `heading`, waits for the page whose `<h1>` it is
   * (a click that navigates returns before the next page has loaded).
   */
  async click(locator, heading) {
    this.clicks += 1;
    await locator.click();
    if (heading) await this.page.getByRole("heading", { level: 1, name: heading }).waitFor();
    await this.page.waitForLoadState("load");
  }

  /** Screenshot and axe scan of the page as it is now. */
  async check(name) {
    const started = Date.now();
    await this.page.waitForLoadState("load");
    shotNumber += 1;
    mkdirSync(env.screenshots, { recursive: true });
    const file = join(env.screenshots, `${testFile}-${String(shotNumber).padStart(2, "0")}-${this.label}-${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    try {
      await scan(this.page, `${this.label}/${name}`);
    } finally {
      this.checkMs += Date.now() - started;
    }
  }

  assertNoProblems() {
    assert.deepEqual(this.problems, [], "no script errors and nothing refused by the CSP");
  }
}

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, which the page's
 * CSP (script-src 'self') does not govern, so the page is scanned under its real policy.
 */
export async function scan(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) })),
    ),
  );
  const counts = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const v of result) counts[v.impact] = (counts[v.impact] ?? 0) + v.nodes.length;
  axeResults.push({ page: name, url: page.url(), ...counts });
  console.log(
    `axe ${name} (${new URL(page.url()).pathname}): ${counts.critical} critical, ${counts.serious} serious, ` +
      `${counts.moderate} moderate, ${counts.minor} minor`,
  );
  for (const v of result) console.log(`  ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(", ")}`);
  const grave = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(grave, [], `axe finds no serious or critical violation on ${name}`);
}

/** The messages stored for `to`, oldest first. */
function messagesTo(to) {
  return readdirSync(env.mailbox)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(env.mailbox, f), "utf8")))
    .filter((m) => m.to.some((r) => r.toLowerCase() === to.toLowerCase()));
}

/** Waits (at most `timeoutMs`) for message number `n` (from 1) to `to`; answers it. */
export async function waitForMail(to, n = 1, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = messagesTo(to);
    if (found.length >= n) return found[n - 1];
    if (Date.now() > deadline) throw new Error(`no message number ${n} to ${to} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sign-in link in a message, which must point at `portal`. */
export function signInLink(message, portal = env.portal) {
  const links = message.text.match(/https?:\/\/\S+\/signin\/verify\?token=[0-9a-f]+/g) ?? [];
  assert.equal(links.length, 1, `one sign-in link in the message: ${message.text}`);
  assert.ok(links[0].startsWith(`${portal}/signin/verify?token=`), `the link points at the portal: ${links[0]}`);
  return links[0];
}

/** Asks `portal` for a sign-in link for `email` from `page`; answers the link from the mail. */
export async function requestLink(tracked, portal, email, n = 1) {
  await tracked.page.goto(`${portal}/signin`);
  await tracked.page.getByLabel("Email").fill(email);
  await tracked.click(tracked.page.getByRole("button", { name: "Email me a sign-in link" }), "Check your email");
  return signInLink(await waitForMail(email, n), portal);
}

/** Signs `email` in on `portal` (a new developer signs up); leaves the page on /dashboard. */
export async function signIn(tracked, email, portal = env.portal) {
  const link = await requestLink(tracked, portal, email);
  await tracked.page.goto(link);
  await tracked.click(tracked.page.getByRole("button", { name: "Continue" }), "Your apps");
  assert.equal(new URL(tracked.page.url()).pathname, "/dashboard", "signed in, on the dashboard");
  return link;
}

/** The session cookie, as the browser kept it. */
export async function sessionCookie(context) {
  return (await context.cookies()).find((c) => c.name === "__Host-gatehouse-session");
}

/** The "In total" row of the usage page shown now: requests and how many succeeded. */
export async function usageTotals(page) {
  const cells = await page.locator("h2:text-is('In total') + table tbody tr td").allTextContents();
  return { requests: Number(cells[0]), ok: Number(cells[1]) };
}

/**
 * Reloads the usage page until its totals reach `requests` (usage is flushed to the store
 * every second by gatehouse dev), at most `timeoutMs`; answers the last totals.
 */
export async function waitForUsage(page, requests, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const totals = await usageTotals(page);
    if (totals.requests >= requests || Date.now() > deadline) return totals;
    await page.waitForTimeout(250);
    await page.reload();
  }
}
