// Settings → Media lookups at 1280 and 390 px, each state audited: loading,
// empty (no keys), a key saved (shown only masked, never in the page), a
// refused URL explained in place, a key removed, the error state with a
// retry, and offline when the daemon stops.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the end).
import { base, ticket, run, step, audit } from "./browser.mjs";

const KEY = "acoustid-test-key-0123456789";

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

await run("settings-media", { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in; while the lookup settings load, the card shows a skeleton");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/settings"]').waitFor({ state: "attached" });
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/settings", async (route) => { await held; await route.continue(); });
  await visit(page, "settings");
  await page.locator("#enrichment .skeleton[aria-busy=true]").waitFor();
  await audit(page, "settings-media-loading");
  release();
  await page.locator("#enrichment-form").waitFor();
  await page.unroute("**/api/v1/settings");

  step("empty: no keys set, nothing to remove");
  const key = page.locator('input[data-setting="acoustid_api_key"]');
  if ((await key.getAttribute("placeholder")) !== "Not set") throw new Error("the empty key does not say so");
  if (await page.locator('button[data-action="remove-acoustid"]').isVisible()) throw new Error("remove shown without a key");
  await audit(page, "settings-media-empty");

  step("a URL that is not http(s) is refused, explained in place");
  await page.locator("#enrichment-form details summary").first().click();
  await page.fill('input[data-setting="acoustid_base_url"]', "ftp://example.org/v2");
  await page.locator('#enrichment-form button[type="submit"]').click();
  await page.locator("#enrichment-form .inline-error", { hasText: "AcoustID service URL: an http:// or https:// URL" }).waitFor();
  await audit(page, "settings-media-refused");
  const still = await (await api("/settings")).json();
  if (still.acoustid_base_url !== "https://api.acoustid.org/v2") throw new Error("a refused URL was saved");

  step("save a key: it comes back masked, never whole");
  await visit(page, "home");
  await visit(page, "settings");
  await page.fill('input[data-setting="acoustid_api_key"]', KEY);
  await page.locator('#enrichment-form button[type="submit"]').click();
  await page.locator('button[data-action="remove-acoustid"]').waitFor();
  const placeholder = await page.locator('input[data-setting="acoustid_api_key"]').getAttribute("placeholder");
  if (!placeholder.includes("••••6789")) throw new Error(`placeholder ${placeholder}`);
  if ((await page.content()).includes(KEY)) throw new Error("the key is in the page");
  const saved = await (await api("/settings")).json();
  if (!saved.acoustid_api_key_set) throw new Error("the key was not saved");
  await audit(page, "settings-media-saved");

  step("remove it");
  await page.locator('button[data-action="remove-acoustid"]').click();
  await page.locator('button[data-action="remove-acoustid"]').waitFor({ state: "hidden" });
  const removed = await (await api("/settings")).json();
  if (removed.acoustid_api_key_set) throw new Error("the key stays");

  step("an error: the settings cannot load, the card says so and offers a retry");
  await page.route("**/api/v1/settings", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "settings");
  await page.locator("#enrichment .load-error", { hasText: "could not load" }).getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "settings-media-error");
  await page.unroute("**/api/v1/settings");
  await page.locator("#enrichment .load-error button").click();
  await page.locator("#enrichment-form").waitFor();

  step("the daemon stops: the shell's offline banner");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await audit(page, "settings-media-offline");
});
