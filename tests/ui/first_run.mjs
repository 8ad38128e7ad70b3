// The desktop app's unlock window (#/unlock) in a real browser, on a fresh
// daemon: create the passphrase, see the recovery phrase, confirm two of
// its words, set the profile; then lock, fail once (the form shakes), and
// unlock. Environment: browser.mjs.
import { base, ticket, run, step, audit } from "./browser.mjs";

const passphrase = "maple river quiet lantern 42";

await run("first-run", { width: 480, height: 760 }, async ({ page, shot, api }) => {
  step("create the passphrase");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/unlock`);
  await page.fill("#new-passphrase", passphrase);
  await page.fill("#new-passphrase-again", passphrase);
  const meter = await page.locator("#strength").evaluate((m) => m.value);
  if (meter < 3) throw new Error(`strength meter says ${meter} for a good passphrase`);
  await shot("first-run-passphrase");
  await audit(page, "unlock-create");
  await page.setViewportSize({ width: 480, height: 760 });
  await page.locator('#create-form button[type="submit"]').click();

  step("the recovery phrase, then two of its words");
  await page.locator("#recovery-phrase li").first().waitFor();
  const words = await page.locator("#recovery-phrase li").allTextContents();
  if (words.length !== 24) throw new Error(`${words.length} recovery words`);
  await shot("first-run-phrase");
  await page.getByRole("button", { name: "I wrote them down" }).click();
  const inputs = page.locator('#confirm-words input[id^="word-"]');
  await inputs.first().waitFor();
  for (const input of await inputs.all()) {
    const n = Number((await input.getAttribute("id")).split("-")[1]);
    await input.fill(words[n - 1]);
  }
  await page.locator('#confirm-words button[type="submit"]').click();

  step("the profile");
  await page.fill("#display-name", "Ada Lovelace");
  await page.fill("#username", "ada");
  await page.locator('#profile-form button[type="submit"]').click();
  await page.getByText("All set").waitFor();
  const profile = await (await api("/identity")).json();
  await api("/identity/lock", { method: "POST" });
  if (profile.state !== "unlocked" || profile.profile?.display_name !== "Ada Lovelace") {
    throw new Error(`identity after setup: ${JSON.stringify(profile)}`);
  }

  step("a wrong passphrase shakes, the right one unlocks");
  await page.reload();
  await page.fill("#unlock-passphrase", "not my passphrase");
  await page.locator('#unlock-form button[type="submit"]').click();
  await page.locator("#unlock-form.shake").waitFor();
  await page.getByText("That passphrase is not right").waitFor();
  await shot("unlock-wrong");
  await audit(page, "unlock-wrong");
  await page.setViewportSize({ width: 480, height: 760 });
  await page.fill("#unlock-passphrase", passphrase);
  // The daemon may ask to wait after a failure; the button says so.
  await page.waitForFunction(() => !document.querySelector('#unlock-form button[type="submit"]').disabled, null, { timeout: 20000 });
  await page.locator('#unlock-form button[type="submit"]').click();
  await page.getByText("Unlocked.").first().waitFor();
});
