// Creating the identity from Home on a fresh daemon: the strength meter,
// the recovery phrase with Print, a warning before leaving while it is on
// screen, two words typed back (a wrong one is refused next to the form).
// Environment: browser.mjs.
import { base, ticket, run, step, audit, DESKTOP } from "./browser.mjs";

const passphrase = "copper meadow signal 7 winter";

await run("home-create", DESKTOP, async ({ page, api }) => {
  step("Home offers to create the identity");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator("#create-form").waitFor();
  await audit(page, "home-create");
  await page.fill("#new-passphrase", "short");
  await page.fill("#new-passphrase-again", "short");
  await page.locator('#create-form button[type="submit"]').click();
  if (await page.locator("#recovery-phrase").count()) throw new Error("a too-short passphrase was accepted");
  await page.fill("#new-passphrase", passphrase);
  await page.fill("#new-passphrase-again", passphrase);
  if ((await page.locator("#strength").evaluate((m) => m.value)) < 3) throw new Error("weak meter for a good passphrase");
  await page.locator('#create-form button[type="submit"]').click();

  step("the phrase, with print and a warning before leaving");
  await page.locator("#recovery-phrase li").first().waitFor();
  const words = await page.locator("#recovery-phrase li").allTextContents();
  if (words.length !== 24) throw new Error(`${words.length} words`);
  await page.getByRole("button", { name: "Print" }).waitFor();
  await audit(page, "home-phrase");
  let warned = false;
  page.once("dialog", async (d) => {
    warned = d.type() === "beforeunload";
    await d.dismiss();
  });
  await page.locator("#recovery-phrase").click();
  await page.reload({ timeout: 3000 }).catch(() => {});
  if (!warned) throw new Error("no warning before leaving the phrase");
  await page.locator("#recovery-phrase li").first().waitFor();

  step("two words typed back");
  await page.getByRole("button", { name: "I wrote them down" }).click();
  const inputs = page.locator('#confirm-words input[id^="word-"]');
  await inputs.first().waitFor();
  for (const input of await inputs.all()) await input.fill("wrong");
  await page.locator('#confirm-words button[type="submit"]').click();
  await page.locator("#confirm-words .inline-error", { hasText: "does not match" }).waitFor();
  for (const input of await inputs.all()) {
    const n = Number((await input.getAttribute("id")).split("-")[1]);
    await input.fill(words[n - 1]);
  }
  await page.locator('#confirm-words button[type="submit"]').click();
  await page.getByRole("button", { name: "Lock now" }).waitFor();
  const id = await (await api("/identity")).json();
  if (id.state !== "unlocked") throw new Error(`identity: ${JSON.stringify(id)}`);
});
