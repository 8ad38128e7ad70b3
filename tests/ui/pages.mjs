// Every page the way people meet it, at 1280 and 390 px: empty (a fresh
// daemon), with data, loading (answers held back), an error (the page's
// data cannot load), and offline (the daemon not answering: first its
// answers cut off in the browser, then the daemon really stopped). Each
// state is checked by audit(): nothing wider than the viewport, axe-core
// without serious or critical violations, screenshots at both widths.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end) and HOLDFAST_PASSWORD (the web UI password).
import { base, ticket, run, step, audit, PHONE, DESKTOP } from "./browser.mjs";

const PAGES = ["home", "approvals", "apps", "data", "vaults", "activity", "settings"];

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

await run("pages", DESKTOP, async ({ page, api }) => {
  step("log in");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/home"]').waitFor({ state: "attached" });

  step("every page, empty");
  for (const name of PAGES) {
    await visit(page, name);
    await audit(page, `${name}-empty`);
  }

  step("the phone header is one line and opens the menu");
  await page.setViewportSize(PHONE);
  await visit(page, "home");
  const header = await page.locator("header.sidebar").boundingBox();
  if (header.height > 64) throw new Error(`the phone header is ${header.height}px tall`);
  if (await page.locator("nav#nav").isVisible()) throw new Error("the menu is open before it is asked for");
  await page.locator("#menu-button").click();
  await page.locator('nav#nav a[href="#/vaults"]').click();
  await page.locator("main h1", { hasText: "Vaults" }).waitFor();
  if (await page.locator("nav#nav").isVisible()) throw new Error("the menu stayed open after choosing a page");
  await page.setViewportSize(DESKTOP);

  step("every page, with data");
  const created = await (await api("/vaults", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Family photos and documents from the long summer" }),
  })).json();
  const vid = created.vault_id || created.id;
  for (const [path, body] of [
    ["/notes/a-very-long-file-name-that-goes-on-and-on-without-any-break-at-all-2026.txt", "hello"],
    ["/readme.md", "# Read me\n"],
  ]) {
    const r = await api(`/vaults/${vid}/upload${path}`, { method: "POST", body });
    if (!r.ok) throw new Error(`upload ${path}: ${r.status}`);
  }
  for (const name of PAGES) {
    await visit(page, name);
    await audit(page, `${name}-data`);
  }
  await visit(page, `vaults/${vid}`);
  await audit(page, "vault-data");

  step("loading: a skeleton, not an empty state");
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/vaults", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${base}/#/vaults`);
  await page.locator("main > .skeleton").waitFor();
  if (await page.locator("main .view:not(.arriving)").count()) throw new Error("the page shows before its data arrived");
  await audit(page, "vaults-loading");
  release();
  await page.locator("main .view:not(.arriving)").waitFor();
  await page.unroute("**/api/v1/vaults");

  step("an error: the page says it could not load, with a way to try again");
  await page.route("**/api/v1/vaults", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "vaults");
  await page.locator(".load-error").getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "vaults-error");
  await page.unroute("**/api/v1/vaults");
  await page.locator(".load-error button").click();
  await page.locator("main h1", { hasText: "Vaults" }).waitFor();
  await page.locator(".load-error").waitFor({ state: "detached" });

  step("an unknown page leads home");
  await page.goto(`${base}/#/no-such-page`);
  await page.locator("main h1", { hasText: "Home" }).waitFor();

  step("offline: answers cut off, then back");
  await visit(page, "home");
  await page.route("**/api/**", (route) => route.abort("connectionrefused"));
  await page.locator('button:has-text("Lock now"), #unlock-form, #create-form').first().waitFor({ state: "attached" });
  // Any request now fails: navigating makes one.
  await page.goto(`${base}/#/vaults`).catch(() => {});
  await page.locator("#offline").waitFor();
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.getByText("Unlocked", { exact: true }).isVisible()) throw new Error("stale Unlocked while offline");
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled while offline");
  await audit(page, "offline");
  await page.unroute("**/api/**");
  await page.locator("#offline").waitFor({ state: "hidden", timeout: 20000 });
  await page.locator("main h1", { hasText: "Vaults" }).waitFor();

  step("a session that ends returns to the same page after logging in");
  await visit(page, "activity");
  await page.evaluate(() => sessionStorage.setItem("holdfast.token", "expired-token"));
  await page.reload();
  await page.locator("#login-form").waitFor();
  await audit(page, "login");
  await page.fill("#password", process.env.HOLDFAST_PASSWORD);
  await page.locator('#login-form button[type="submit"]').click();
  await page.locator("main h1", { hasText: "Activity" }).waitFor();
  if (!page.url().endsWith("#/activity")) throw new Error(`after logging in: ${page.url()}`);

  step("the daemon really stops");
  await visit(page, "settings");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled with the daemon gone");
  await page.screenshot({ path: `${process.env.HOLDFAST_ARTIFACTS}/daemon-stopped-1280.png`, fullPage: true });
});
