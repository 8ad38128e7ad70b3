// The web UI's user flows in a real browser (Debian's Chromium, headless),
// against a test daemon the e2e suite started (environment: browser.mjs).
// A link request is already waiting when this starts; the script answers it.
import { base, ticket, run, step } from "./browser.mjs";

await run("flows", { width: 1200, height: 800 }, async ({ page, shot, api }) => {
  step("bootstrap login");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}`);
  await page.locator('nav a[href="#/home"]').waitFor();
  if (page.url().includes("bootstrap=")) throw new Error("the ticket stayed in the URL");
  await shot("home");

  step("the request's popup");
  const pending = await (await api("/approvals")).json();
  await page.goto(`${base}/#/popup/${pending[0].id}`);
  const card = page.locator(`article.approval[data-id="${pending[0].id}"]`);
  await card.waitFor();
  if (!(await card.locator('button[data-action="approve"]').isDisabled())) {
    throw new Error("Approve was enabled at once");
  }
  const focused = await page.evaluate(() => document.activeElement?.dataset?.action);
  if (focused !== "deny") throw new Error(`focus is on ${focused}, not Deny`);
  if (await page.locator("nav#nav").isVisible()) throw new Error("the popup shows the navigation");
  await card.getByText("Chess").first().waitFor();
  await shot("popup");

  step("answer the link request");
  await page.goto(`${base}/#/approvals`);
  const request = page.locator("article.approval").first();
  await request.waitFor();
  const approve = request.locator('button[data-action="approve"]');
  await page.waitForFunction(
    (el) => !el.disabled,
    await approve.elementHandle(),
  );
  // The link prompt lets the user choose what the app may read.
  await request.getByLabel("Your display name").check();
  await shot("approval");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("approval-390");
  await page.setViewportSize({ width: 1200, height: 800 });
  // A new app: the user names it (its own claim is only the suggestion).
  const naming = request.getByLabel("Register it as");
  if ((await naming.inputValue()) !== "Chess") throw new Error("the name field does not suggest the claim");
  await naming.fill("Chess (desktop)");
  await approve.click();
  await page.locator("article.approval").first().waitFor({ state: "detached" });
  // The link is recorded just after the answer returns: wait for it.
  let apps = [];
  for (let i = 0; apps.length === 0 && i < 100; i++) {
    if (i > 0) await page.waitForTimeout(100);
    apps = await (await api("/apps")).json();
  }
  const scopes = JSON.stringify(apps.map((a) => a.scopes));
  if (scopes !== '[["display_name"]]') throw new Error(`the app got scopes ${scopes}`);
  if (apps[0].name !== "Chess (desktop)") throw new Error(`the app is registered as ${apps[0].name}`);

  step("create a vault and upload");
  await page.goto(`${base}/#/vaults`);
  await page.fill("#new-vault-name", "Photos");
  await page.locator('#new-vault-form [type="submit"], #new-vault-form button').first().click();
  const vaultLink = page.locator('.vault a[href^="#/vaults/"]').first();
  await vaultLink.waitFor();
  const href = await vaultLink.getAttribute("href");
  const vaultId = href.split("/").pop();
  await vaultLink.click();
  await page.locator("#upload-input").setInputFiles({
    name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("first version"),
  });
  const row = page.locator('tr.file[data-path="/hello.txt"]');
  await row.waitFor();
  await page.locator("#upload-input").setInputFiles({
    name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("second version, longer"),
  });
  const content = async () => (await api(`/vaults/${vaultId}/download/hello.txt`)).text();
  for (let i = 0; (await content()) !== "second version, longer"; i++) {
    if (i > 100) throw new Error("the second upload never landed");
    await page.waitForTimeout(100);
  }
  await shot("vault");

  step("restore the older version");
  // The row shows the second version once the list has refreshed; a click
  // while a refresh replaces the row is lost, so it is tried again.
  const fileRow = page.locator('tr.file[data-path="/hello.txt"]');
  await fileRow.getByText("22 bytes").waitFor();
  const dialog = page.locator("#history-dialog");
  for (let i = 0; !(await dialog.locator("li.version").nth(1).isVisible()); i++) {
    if (i > 20) throw new Error("the history never showed two versions");
    if (!(await dialog.evaluate((d) => d.open))) {
      await fileRow.locator('button[data-action="history"]').click();
    }
    await dialog.locator("li.version").nth(1).waitFor({ timeout: 2000 }).catch(() => {});
  }
  const older = dialog.locator("li.version").nth(1);
  // Each version says how it came to be (uploaded from this page).
  await older.getByText("uploaded (web page or app)").waitFor();
  await older.locator('button[data-action="restore"]').click();
  for (let i = 0; (await content()) !== "first version"; i++) {
    if (i > 100) throw new Error("the restore did not happen");
    await page.waitForTimeout(100);
  }
  await shot("restored");

  step("see an event arrive live");
  await page.goto(`${base}/#/activity`);
  await page.locator("#live-events").waitFor();
  // Give the stream a moment to connect, then cause an event elsewhere.
  await page.waitForTimeout(500);
  const up = await api(`/vaults/${vaultId}/upload/live.txt`, { method: "POST", body: "live" });
  if (up.status !== 200) throw new Error(`upload answered ${up.status}`);
  await page.locator('#live-events li.event[data-type="file_updated"]').first().waitFor();
  await shot("activity");

});
