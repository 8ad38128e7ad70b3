// The API keys page at 1280 and 390 px, each state audited (no overflow,
// axe-core clean of serious violations, screenshots): loading, empty, a key
// made (shown once, copied, gone after "I saved it"), the key really
// working against the hub as X-API-Key, rotating (the old key dead, the new
// one shown once), revoking and deleting behind confirmations, the hub's
// tab bar, the error state, and offline when the daemon stops.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end) and HOLDFAST_HUB (the hub's base URL).
import { base, ticket, run, step, audit } from "./browser.mjs";

const hub = process.env.HOLDFAST_HUB;

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

/** What the hub answers a device route with this key. */
const useKey = async (key) => (await fetch(`${hub}/api/v1/rooms`, { headers: { "X-API-Key": key } })).status;

const clearNotices = (page) => page.evaluate(() => document.getElementById("alerts").replaceChildren());

await run("api-keys", { width: 1280, height: 800 }, async ({ page, api }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });

  step("log in; while the keys load, the page shows a skeleton");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/agent-hub/api-keys", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${base}/#/api-keys`);
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, "api-keys-loading");
  release();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
  await page.unroute("**/api/v1/agent-hub/api-keys");

  step("empty: no keys; the hub's tabs mark this page, the nav marks Agents");
  await page.locator("#keys-list .empty", { hasText: "No API keys yet" }).waitFor();
  await page.locator('.hub-tabs a[href="#/api-keys"][aria-current="page"]').waitFor();
  await page.locator('#nav a[href="#/agents"][aria-current="page"]').waitFor({ state: "attached" });
  await audit(page, "api-keys-empty");

  step("a refused name is explained in place");
  await page.fill("#keys-name", "bot");
  await page.fill("#keys-identity", "zz");
  await page.locator('#keys-form button[type="submit"]').click();
  if (await page.locator("#keys-shown").isVisible()) throw new Error("an invalid identity key was accepted");
  await page.fill("#keys-identity", "");

  step("create a key: shown once, copies, and works against the hub");
  await page.fill("#keys-name", "support bot");
  await page.locator('#keys-form button[type="submit"]').click();
  await page.locator("#keys-shown h3", { hasText: "support bot" }).waitFor();
  await page.locator("#keys-shown .secret-warning", { hasText: "shown only now" }).waitFor();
  const key = await page.inputValue("#keys-secret");
  if (!key.startsWith("av_agent_sk_")) throw new Error(`key ${key}`);
  await page.locator('[data-copy="keys-secret"]').click();
  await page.waitForFunction(async (k) => (await navigator.clipboard.readText()) === k, key);
  const item = page.locator("#keys-list .api-key", { hasText: "support bot" });
  await item.locator('[data-status="active"]').waitFor();
  if ((await item.textContent()).includes(key)) throw new Error("the list shows the whole key");
  if (await useKey(key) !== 200) throw new Error("the new key does not work");
  const listed = await (await api("/agent-hub/api-keys")).text();
  if (listed.includes(key)) throw new Error("GET /api-keys shows the key");
  await clearNotices(page);
  await audit(page, "api-keys-created");
  await page.locator('[data-action="hide-key"]').click();
  await page.locator("#keys-shown").waitFor({ state: "hidden" });
  if ((await page.content()).includes(key)) throw new Error("the key stays in the page");

  step("rotate behind a confirmation: the old key is dead, the new one shown once");
  await item.locator('[data-action="rotate"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Rotate key" }).click();
  await page.locator("#keys-shown h3", { hasText: "Rotated key" }).waitFor();
  const rotated = await page.inputValue("#keys-secret");
  if (rotated === key || !rotated.startsWith("av_agent_sk_")) throw new Error(`rotated ${rotated}`);
  if (await useKey(key) !== 401) throw new Error("the old key still works");
  if (await useKey(rotated) !== 200) throw new Error("the rotated key does not work");
  await page.locator('[data-action="hide-key"]').click();
  await item.locator("dd", { hasText: /ago|:/ }).first().waitFor();
  await audit(page, "api-keys-list");

  step("revoke behind a confirmation: the key stops working");
  await item.locator('[data-action="revoke"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
  await item.locator('[data-status="revoked"]').waitFor();
  if (await useKey(rotated) !== 401) throw new Error("a revoked key still works");
  if (await item.locator('[data-action="rotate"]').count()) throw new Error("a revoked key offers Rotate");

  step("delete: the key and its device are gone");
  const keys = await (await api("/agent-hub/api-keys")).json();
  const deviceId = keys[0].device_id;
  await item.locator('[data-action="delete"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete key" }).click();
  await page.locator("#keys-list .empty", { hasText: "No API keys yet" }).waitFor();
  const devices = await (await api("/agent-hub/devices")).json();
  if (devices.some((d) => d.id === deviceId)) throw new Error("the key's device stays");

  step("an error: the keys cannot load, the page says so and offers a retry");
  await page.route("**/api/v1/agent-hub/api-keys", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ detail: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "api-keys");
  await page.locator(".load-error", { hasText: "could not load" }).getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "api-keys-error");
  await page.unroute("**/api/v1/agent-hub/api-keys");
  await page.locator(".load-error button").click();
  await page.locator("#keys-list").waitFor();

  step("the daemon stops: the shell's offline banner, no stale keys");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  if (await page.locator("#keys-list").count()) throw new Error("the keys stay shown while offline");
  await audit(page, "api-keys-offline");
});
