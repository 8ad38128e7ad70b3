// Resolving a conflict on the vault page: the file shows its two heads;
// "Keep this one" on the other side resolves it. Needs HOLDFAST_VAULT,
// HOLDFAST_PATH and HOLDFAST_KEEP (the content hash to keep).
import { base, ticket, run, step } from "./browser.mjs";

const { HOLDFAST_VAULT: vault, HOLDFAST_PATH: path, HOLDFAST_KEEP: keep } = process.env;

await run("conflict", { width: 1200, height: 800 }, async ({ page, shot, api }) => {
  step("the conflict is shown");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/vaults/${vault}`);
  const row = page.locator(`tr.conflict-row[data-path="${path}"]`);
  await row.waitFor();
  const heads = await row.locator("li.head").count();
  if (heads !== 2) throw new Error(`${heads} heads shown`);
  await shot("conflict");

  step("keep the other side");
  await row.locator(`li.head[data-hash="${keep}"] button[data-action="keep"]`).click();
  await row.waitFor({ state: "detached" });
  const file = await (await api(`/vaults/${vault}/files${path}`)).json();
  if (file.content_hash !== keep || file.conflicts.length) {
    throw new Error(`after resolving: ${JSON.stringify(file)}`);
  }
});
