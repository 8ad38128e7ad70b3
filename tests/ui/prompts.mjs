// Approval prompts in a real browser (environment: browser.mjs). Waiting
// when this starts: a link request from the registered app notes_sync
// ("Notes Sync") calling itself "Your Bank (official)" (LINK_ID), a text
// sign request (SIGN_TEXT) and a binary one behind it from a program that
// names no app, and a sign-in request from an unknown app. The script
// denies the link in its popup, allows the text signature, denies the rest
// on the Approvals page, then checks the Activity page.
import { base, ticket, run, step, audit } from "./browser.mjs";

const FAKE = "Your Bank (official)";
const linkId = process.env.LINK_ID;
const signText = process.env.SIGN_TEXT;

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

await run("prompts", { width: 1280, height: 800 }, async ({ page, shot, api }) => {
  step("bootstrap login");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}`);
  await page.locator('nav a[href="#/home"]').waitFor();

  step("the popup names the registered app; the claim only on its marked line");
  await page.goto(`${base}/#/popup/${linkId}`);
  const card = page.locator(`article.approval[data-id="${linkId}"]`);
  await card.waitFor();
  const heading = (await card.locator("h3").innerText()).trim();
  expect(heading.startsWith("Notes Sync wants to link"), `heading: ${heading}`);
  expect(!heading.includes("Bank"), `the heading repeats the claim: ${heading}`);
  const claimed = (await card.locator(".claimed-name").innerText()).trim();
  expect(claimed.startsWith("calls itself") && claimed.includes(FAKE), `claimed line: ${claimed}`);
  // The claim appears nowhere else on the card.
  const mentions = (await card.innerText()).split("Your Bank").length - 1;
  expect(mentions === 1, `the claim is shown ${mentions} times`);
  await card.getByText("Registered app").waitFor();
  await card.getByText("notes_sync").first().waitFor();
  await card.getByText("Sync your notes").waitFor();
  expect(await card.getByLabel("Your display name").count() === 1, "no scope checkboxes");
  const focused = await page.evaluate(() => document.activeElement?.dataset?.action);
  expect(focused === "deny", `focus is on ${focused}, not Deny`);
  // What allowing would share, in words, as the boxes change.
  const shares = card.locator(".shares");
  expect((await shares.innerText()).includes("none of your profile"), `shares: ${await shares.innerText()}`);
  await card.getByLabel("Your display name").check();
  expect((await shares.innerText()).trim() === "If you allow, it gets your display name.", `shares: ${await shares.innerText()}`);
  await audit(page, "popup");

  step("deny it: the popup says what was answered");
  await card.locator('button[data-action="deny"]').click();
  const result = page.locator(".popup .approval-result .result-text");
  await result.waitFor();
  const said = (await result.innerText()).trim();
  expect(said.startsWith("You denied Notes Sync"), `after denying: ${said}`);
  await shot("popup-answered");

  step("the Approvals page: text to sign, blind signing, an unknown app");
  await page.goto(`${base}/#/approvals`);
  const textCard = page.locator('article.approval[data-kind="sign"]').filter({ hasText: "Pay the bill" });
  await textCard.waitFor();
  const shownText = await textCard.locator("pre.sign-text").innerText();
  expect(shownText.trim() === signText, `text shown: ${shownText}`);
  expect(await textCard.locator(".blind-warning").count() === 0, "text flagged as blind");
  const blindCard = page.locator('article.approval[data-kind="sign"]').filter({ has: page.locator(".blind-warning") });
  await blindCard.waitFor();
  expect((await blindCard.locator(".blind-warning").innerText()).includes("Blind signing"), "no blind-signing warning");
  const short = (await blindCard.locator("pre.hex-short").innerText()).trim();
  expect(short.startsWith("ff fe fd") && short.endsWith("…"), `short hex: ${short}`);
  await blindCard.locator(".hex-all summary").click();
  const all = (await blindCard.locator(".hex-all pre").innerText()).replace(/\s+/g, "");
  expect(all.length === 320 * 2, `all hex: ${all.length} digits`);
  const stranger = page.locator('article.approval[data-kind="auth"]');
  await stranger.waitFor();
  const strangerHeading = (await stranger.locator("h3").innerText()).trim();
  expect(strangerHeading.startsWith("Unverified app (stranger)"), `unknown app heading: ${strangerHeading}`);
  await stranger.getByText("Unknown app: never linked before").waitFor();
  expect((await stranger.locator(".claimed-name").innerText()).includes(FAKE), "the unknown app's claim is not shown");
  // The sign text wraps: its box is no wider than the card.
  await page.setViewportSize({ width: 390, height: 844 });
  const fits = await textCard.locator("pre.sign-text").evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
  expect(fits, "the text to sign scrolls sideways at 390 px");
  await page.setViewportSize({ width: 1280, height: 800 });
  await audit(page, "approvals");

  step("allow the text, deny the others; each says what was answered");
  const allow = textCard.locator('button[data-action="approve"]');
  await page.waitForFunction((el) => !el.disabled, await allow.elementHandle());
  await allow.click();
  const results = page.locator(".approval-results");
  await results.getByText("You allowed").waitFor();
  await stranger.locator('button[data-action="deny"]').click();
  await results.getByText("You denied Unverified app (stranger)").waitFor();
  // The binary request comes to the front once the text one is answered.
  const front = page.locator('article.approval[data-kind="sign"]:not(.queued)').filter({ has: page.locator(".blind-warning") });
  await front.waitFor();
  await front.locator('button[data-action="deny"]').click();

  step("remember for 30 days is worded with its risk; a failed answer shows next to the buttons");
  const appCard = page.locator('article.approval[data-kind="sign"]').filter({ hasText: "Notes Sync" });
  await appCard.waitFor();
  await appCard.locator('select[name="remember"]').selectOption(String(30 * 86400));
  const risk = (await appCard.locator(".remember-risk.risky").innerText()).trim();
  expect(/^For 30 days: this app can sign anything without asking until .+\./.test(risk), `risk: ${risk}`);
  await appCard.locator('select[name="remember"]').selectOption("0");
  // The daemon fails the answer once: the card says so by its buttons.
  await page.route("**/api/v1/approvals/*", (route) => (route.request().method() === "POST"
    ? route.fulfill({ status: 500, contentType: "application/json", body: '{"error":"internal error"}' })
    : route.continue()), { times: 1 });
  await appCard.locator('button[data-action="deny"]').click();
  const inline = appCard.locator(".actions + .inline-error");
  await inline.waitFor();
  expect((await inline.innerText()).includes("Holdfast hit a problem"), `inline error: ${await inline.innerText()}`);
  await page.waitForFunction((el) => !el.disabled, await appCard.locator('button[data-action="deny"]').elementHandle());
  await shot("approvals-answer-failed");
  await page.unrouteAll();
  await appCard.locator('button[data-action="deny"]').click();
  await page.locator("article.approval").first().waitFor({ state: "detached" });

  step("opening Your data is not an export");
  await page.goto(`${base}/#/data`);
  await page.getByText("No app has backed anything up yet.").waitFor();
  const exports = await (await api("/audit?types=export")).json();
  expect(exports.length === 0, `opening the data page was logged as an export: ${JSON.stringify(exports)}`);

  step("Activity: names, local times, by day, and paging back");
  await page.goto(`${base}/#/activity`);
  const firstDay = page.locator(".audit-day").first();
  await firstDay.waitFor();
  expect((await firstDay.innerText()).trim() === "Today", "the first day is not Today");
  const denial = page.locator('.audit-item[data-type="approval"]').filter({ hasText: "link request from Notes Sync" }).first();
  await denial.waitFor();
  const denialText = await denial.innerText();
  expect(denialText.includes(`it called itself “${FAKE}”`), `approval entry: ${denialText}`);
  expect(!/Bank/.test(await denial.locator(".audit-what").innerText()), "the claim is used as the name");
  const items = page.locator(".audit-item");
  expect(await items.count() === 50, `first page: ${await items.count()} items`);
  await audit(page, "activity");
  const older = page.locator('button[data-action="older"]');
  await older.click();
  await page.waitForFunction(() => document.querySelectorAll(".audit-item").length > 50);
  const ids = await items.evaluateAll((els) => els.map((e) => Number(e.dataset.id)));
  expect(new Set(ids).size === ids.length, "a page repeats events");
  expect(ids.every((id, i) => i === 0 || ids[i - 1] > id), "not newest first");
  const vault = (await page.locator('.audit-item[data-type="vault_created"]').innerText()).trim();
  expect(vault.includes("Created vault “Photos”"), `vault entry: ${vault}`);
  expect(!/vault id/.test(vault), `the vault entry shows its id: ${vault}`);
  await shot("activity-older");
});
