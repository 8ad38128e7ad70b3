// "Report a problem" on Settings: build a report, download it through the
// link (a ?token= URL, as an <a download> uses it), delete it.
import { base, ticket, run, step } from "./browser.mjs";

await run("report", { width: 1200, height: 900 }, async ({ page, shot, api }) => {
  step("build a report");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/settings`);
  await page.locator("#report-list").waitFor({ state: "attached" });
  await page.locator('button[data-action="build-report"]').click();
  const row = page.locator("#report-list li.report");
  await row.waitFor();
  const id = await row.getAttribute("data-id");
  await shot("report");

  step("the download link serves the zip");
  const href = await row.locator('a[data-action="download"]').getAttribute("href");
  if (!href.includes("?token=")) throw new Error(`download link ${href}`);
  const got = await page.evaluate(async (url) => {
    const r = await fetch(url);
    return { status: r.status, type: r.headers.get("content-type"), size: (await r.arrayBuffer()).byteLength };
  }, href);
  if (got.status !== 200 || got.type !== "application/zip" || got.size === 0) {
    throw new Error(`download: ${JSON.stringify(got)}`);
  }

  step("delete it");
  await row.locator('button[data-action="delete"]').click();
  await page.locator("dialog.confirm button.danger").click();
  await row.waitFor({ state: "detached" });
  const left = await (await api("/diagnostics/reports")).json();
  if (left.some((r) => r.id === id)) throw new Error("the report is still listed");
});
