// A vault's devices. Needs HOLDFAST_VAULT; HOLDFAST_DEVICES is how many
// devices hold it (1: a lone daemon with no network, whose share button
// explains what to do; 2: a second device holds a full copy).
import { base, ticket, run, step, audit } from "./browser.mjs";

const vault = process.env.HOLDFAST_VAULT;
const devices = Number(process.env.HOLDFAST_DEVICES);
const name = devices === 1 ? "vault-devices-alone" : "vault-devices";

await run(name, { width: 1280, height: 800 }, async ({ page }) => {
  const expect = (ok, what) => {
    if (!ok) throw new Error(what);
  };
  step("the vault page lists the devices that keep it");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/vaults/${vault}`);
  const items = page.locator("#replica-list li.replica");
  await items.nth(devices - 1).waitFor();
  expect(await items.count() === devices, `${await items.count()} devices listed`);
  const summary = await page.locator("#replica-summary").innerText();
  expect(summary.includes(`Kept on ${devices} ${devices === 1 ? "device" : "devices"}`), summary);
  expect((await items.first().innerText()).includes("(this device)"), "this device is named as such");
  await audit(page, name);

  step("Add another device");
  await page.locator("#share-vault").click();
  if (devices === 1) {
    const warn = page.locator(".share-out .alert");
    await warn.waitFor();
    expect((await warn.innerText()).includes("Connect this device to a network first"), await warn.innerText());
    await audit(page, `${name}-share-offline`);
  } else {
    const url = page.locator("#vault-share-url");
    await url.waitFor();
    expect((await url.inputValue()).startsWith("holdfast://vault/v1/"), "a share link");
    await audit(page, `${name}-share`);
  }

  step("the vaults page offers to join a shared vault");
  await page.goto(`${base}/#/vaults`);
  await page.locator("#join-vault-form").waitFor();
  await page.locator("#join-vault-url").fill("https://example.com/not-a-share-link");
  await page.locator("#join-vault-form button[type=submit]").click();
  const err = page.locator(".alert, [role=alert]").filter({ hasText: "holdfast://" });
  await err.first().waitFor();
  await audit(page, `${name}-join-error`);
});
