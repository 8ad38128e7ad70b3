// The Trust page at 1280 and 390 px, each state audited (no overflow,
// axe-core clean of serious violations, screenshots): a skeleton while the
// scores load; two real agents with the scores the hub computed (the kept
// one trusted with one reading, the revoked one at 0 with a two-point
// history chart whose readings are also a table); the workspaces with
// their members and team rooms, one created from the form and a duplicate
// name refused inline; the kept agent revoked
// over REST and the page updating live from the device event; empty (a
// stand-in answer of the devices route); the error state with a retry;
// offline when the daemon stops.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end) and HOLDFAST_KEPT (the device id of the agent still active).
import { base, ticket, run, step, audit } from "./browser.mjs";

const DEVICES = "**/api/v1/agent-hub/devices";

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

const card = (page, name) => page.locator(".trust-agent", { has: page.locator("h3", { hasText: name }) });

await run("trust", { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in; the Trust tab of the hub pages shows a skeleton while scores load");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/agents`);
  await page.locator('.hub-tabs a[href="#/trust"]').waitFor();
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(DEVICES, async (route) => {
    await held;
    await route.continue();
  });
  await page.locator('.hub-tabs a[href="#/trust"]').click();
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, "trust-loading");
  release();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
  await page.unroute(DEVICES);
  await page.locator("main h1", { hasText: "Trust" }).waitFor();
  if (await page.locator('.hub-tabs a[aria-current="page"]').innerText() !== "Trust") {
    throw new Error("the Trust tab is not marked as the page shown");
  }

  step("each agent with its score, tier and components");
  const kept = card(page, "Builder");
  const gone = card(page, "Old crawler");
  await kept.waitFor();
  await gone.waitFor();
  const keptScore = Number(await kept.locator(".trust-number").innerText());
  if (!(keptScore >= 80 && keptScore <= 100)) throw new Error(`kept agent scores ${keptScore}`);
  await kept.locator('.trust-tier[data-tier="trusted"]').waitFor();
  if (await kept.locator(".trust-component").count() !== 5) throw new Error("five components");
  await kept.locator('[data-component="delivery"] .trust-detail', { hasText: /[1-9]\d* delivered, 0 dead-lettered/ }).waitFor();
  await kept.locator(".trust-history figcaption", { hasText: "One reading so far" }).waitFor();
  if (await gone.locator(".trust-number").innerText() !== "0") throw new Error("a revoked agent scores 0");
  await gone.locator('.trust-tier[data-tier="revoked"]').waitFor();
  await gone.locator('[data-component="standing"] .trust-detail', { hasText: "1 revocation" }).waitFor();

  step("the revoked agent's history: a chart with a text summary and a table of readings");
  const chart = gone.locator("svg.trust-chart[role=img]");
  await chart.waitFor();
  const label = await chart.getAttribute("aria-label");
  if (!/2 readings from \d+ on .* to 0 on /.test(label)) throw new Error(`chart label: ${label}`);
  const points = (await gone.locator("polyline.trust-line").getAttribute("points")).trim().split(/\s+/);
  if (points.length !== 2) throw new Error(`chart points: ${points}`);
  await gone.locator(".trust-readings summary").click();
  const rows = await gone.locator(".trust-table tbody tr").allInnerTexts();
  if (rows.length !== 2 || !rows[0].includes("Revoked")) throw new Error(`readings: ${JSON.stringify(rows)}`);
  await audit(page, "trust-scores");

  step("workspaces: the one made in the test with its members and team room; a new one from the form");
  const research = page.locator(".trust-workspace", { has: page.locator("h3", { hasText: "Research" }) });
  await research.locator("p", { hasText: "Builder (admin)" }).waitFor();
  await research.locator("p", { hasText: "standup" }).waitFor();
  await page.fill("#trust-workspace-name", "Night shift");
  await page.locator('#trust-workspace-form button[type="submit"]').click();
  await page.locator(".trust-workspace h3", { hasText: "Night shift" }).waitFor();
  await page.locator(".trust-workspace", { hasText: "Night shift" }).locator("p", { hasText: "none yet" }).waitFor();
  await page.fill("#trust-workspace-name", "Night shift");
  await page.locator('#trust-workspace-form button[type="submit"]').click();
  await page.locator("#trust-workspace-form", { hasText: "exists" }).waitFor();

  step("the kept agent is revoked elsewhere: its card updates live");
  const r = await api(`/agents/${process.env.HOLDFAST_KEPT}/revoke`, { method: "POST" });
  if (r.status !== 200) throw new Error(`revoke: ${r.status} ${await r.text()}`);
  await kept.locator('.trust-tier[data-tier="revoked"]').waitFor({ timeout: 20000 });
  await kept.locator("svg.trust-chart").waitFor();
  await audit(page, "trust-live");

  step("empty: no agents");
  const none = (route) => route.fulfill({ status: 200, contentType: "application/json", body: "[]" });
  await page.route(DEVICES, none);
  await page.route("**/api/v1/agent-hub/workspaces", none);
  await visit(page, "home");
  await visit(page, "trust");
  await page.locator("#trust-agents .empty", { hasText: "No agents yet" }).waitFor();
  await page.locator("#trust-workspaces .empty", { hasText: "No workspaces yet" }).waitFor();
  await audit(page, "trust-empty");
  await page.unroute(DEVICES);
  await page.unroute("**/api/v1/agent-hub/workspaces");

  step("an error: the scores cannot load, the page says so and offers a retry");
  await page.route(DEVICES, (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ detail: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "trust");
  await page.locator(".trust-unavailable").getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "trust-error");
  await page.unroute(DEVICES);
  await page.locator(".trust-unavailable button").click();
  await page.locator("#trust-agents .trust-agent").first().waitFor();

  step("the daemon stops: the shell's offline banner, no stale scores");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  if (await page.locator("#trust-agents").count()) throw new Error("the scores stay shown while offline");
  await audit(page, "trust-offline");
});
