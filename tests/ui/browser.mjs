// What every browser script shares: Debian's Chromium through
// playwright-core, a page that fails on uncaught page errors, screenshots
// into $HOLDFAST_ARTIFACTS, the bearer the page holds (for checking results
// over the API), and the exit code. Environment: HOLDFAST_URL (base URL),
// HOLDFAST_TICKET (a bootstrap ticket), HOLDFAST_ARTIFACTS, CHROMIUM.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const base = process.env.HOLDFAST_URL;
export const ticket = process.env.HOLDFAST_TICKET;

/** Run `steps({ page, shot, api })`; prints "ok" or the error, sets the exit code. */
export async function run(name, viewport, steps) {
  const artifacts = process.env.HOLDFAST_ARTIFACTS;
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Failed requests are logged too; the error paths under test cause them.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });
  const shot = (n) => page.screenshot({ path: join(artifacts, `${n}.png`), fullPage: true });
  // A REST call with the bearer the page signed in with.
  const api = async (path, init = {}) => {
    const token = await page.evaluate(() => sessionStorage.getItem("holdfast.token"));
    if (!token) throw new Error("the page holds no bearer");
    return fetch(`${base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers || {}) },
    });
  };
  try {
    await steps({ page, shot, api });
    if (problems.length) throw new Error(problems.join("\n"));
    console.log("ok");
  } catch (e) {
    await shot(`${name}-failure`).catch(() => {});
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

export const step = (text) => console.log(`step: ${text}`);
