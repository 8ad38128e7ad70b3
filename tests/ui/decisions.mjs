// The Decisions and Telemetry pages at 1280 and 390 px, each state audited
// (no overflow, axe-core clean of serious violations, screenshots): the
// loading skeleton, two questions a real agent asked (one with options and
// context), the same question as a card on the Approvals page, approving
// with an option and a note, deferring (the badge changes, the popup card
// goes), denying (the list empties, the Decided table fills), the error
// state; then the Telemetry page of that agent: its summary figures, the
// chart of spans over time with its table fallback, span names and the
// latest spans, and another window.
// Environment: browser.mjs, plus HOLDFAST_HUB_ID (the agent's hub_id) and
// HOLDFAST_AGENT_NAME.
import { base, ticket, run, step, audit } from "./browser.mjs";

const hubId = process.env.HOLDFAST_HUB_ID;
const agentName = process.env.HOLDFAST_AGENT_NAME;

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

const card = (page, title) => page.locator("#decisions-open article.decision", { hasText: title });

await run("decisions", { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in; while decisions load, the page shows a skeleton");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/agent-hub/decisions?*", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${base}/#/decisions`);
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, "decisions-loading");
  release();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
  await page.unroute("**/api/v1/agent-hub/decisions?*");

  step("the agent's two questions wait, with who asked, options and context");
  await page.locator("main h1", { hasText: "Decisions" }).waitFor();
  await page.locator('.hub-tabs a[aria-current="page"]', { hasText: "Decisions" }).waitFor();
  const deploy = card(page, "Deploy v2 to production?");
  await deploy.waitFor();
  await deploy.locator("text=Asked by " + agentName).waitFor();
  await deploy.locator(".decision-options input[type=radio]").nth(1).waitFor();
  await deploy.locator(".decision-context summary").click();
  await deploy.locator(".decision-context pre", { hasText: "\"pr\": 42" }).waitFor();
  await card(page, "Delete old logs?").waitFor();
  await page.locator("#decisions-resolved .empty", { hasText: "No decisions taken yet" }).waitFor();
  await audit(page, "decisions-open");

  step("the same question is a card in the approvals queue");
  await visit(page, "approvals");
  const queued = page.locator("article", { hasText: "Deploy v2 to production?" }).first();
  await queued.waitFor();
  await queued.locator(".decision-preview").waitFor();
  await audit(page, "decisions-approval-card");

  step("approve with the second option and a note: it moves to Decided");
  await visit(page, "decisions");
  await deploy.locator(".decision-options label", { hasText: "tonight" }).click();
  await deploy.locator("textarea").fill("After 22:00 please");
  await deploy.locator('button[data-action="approve"]').click();
  await deploy.waitFor({ state: "detached" });
  const row = page.locator("#decisions-resolved tr", { hasText: "Deploy v2 to production?" });
  await row.locator(".decision-status", { hasText: "Approved" }).waitFor();
  await row.locator("text=tonight").waitFor();
  await row.locator("text=After 22:00 please").waitFor();

  step("defer the other: still here, marked deferred, out of the queue");
  const logs = card(page, "Delete old logs?");
  await logs.locator('button[data-action="defer"]').click();
  await logs.locator(".decision-status", { hasText: "Deferred" }).waitFor();
  await logs.locator('button[data-action="defer"]').waitFor({ state: "detached" });
  const pending = await (await api("/approvals")).json();
  if (pending.some((a) => a.kind === "decision")) throw new Error("a deferred decision is still in the queue");
  await audit(page, "decisions-deferred");

  step("deny it: nothing waits, both are in Decided");
  await logs.locator('button[data-action="deny"]').click();
  await page.locator("#decisions-open .empty", { hasText: "Nothing waits" }).waitFor();
  await page.locator("#decisions-resolved tr", { hasText: "Delete old logs?" })
    .locator(".decision-status", { hasText: "Denied" }).waitFor();
  await audit(page, "decisions-empty");

  step("an error loading decisions is said, with a way to try again");
  await page.route("**/api/v1/agent-hub/decisions?*", (route) =>
    route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ detail: "catalog unavailable" }) }));
  await visit(page, "home");
  await visit(page, "decisions");
  await page.locator(".load-error", { hasText: "Decisions could not load" }).locator("button", { hasText: "Try again" }).waitFor();
  await audit(page, "decisions-error");
  await page.unroute("**/api/v1/agent-hub/decisions?*");

  step("telemetry of the agent: figures, a chart with a table fallback, names, latest spans");
  await visit(page, `telemetry/${hubId}`);
  await page.locator('.hub-tabs a[aria-current="page"]', { hasText: "Telemetry" }).waitFor();
  const figures = page.locator("#telemetry-summary .telemetry-figures");
  await figures.locator(".figure", { hasText: "Spans" }).locator("dd", { hasText: /^5$/ }).waitFor();
  await figures.locator(".figure", { hasText: "Error rate" }).locator("dd", { hasText: "20.0 %" }).waitFor();
  const chart = page.locator("#telemetry-chart svg.span-chart[role=img]");
  await chart.waitFor();
  const bars = await chart.locator("rect.bar").count();
  if (bars < 2) throw new Error(`only ${bars} bars`);
  const label = await chart.evaluate((svg) => svg.querySelector("desc").textContent);
  if (!label.includes("5 spans, 1 of them errors")) throw new Error(`chart description: ${label}`);
  await page.locator("#telemetry-chart details summary").click();
  await page.locator("#telemetry-chart details table tbody tr").first().waitFor();
  await page.locator("table.span-names code", { hasText: "tool.call" }).waitFor();
  await page.locator("table.recent-spans .badge", { hasText: "Error" }).waitFor();
  await audit(page, "telemetry");

  step("another window: the last hour holds none of these spans");
  await page.selectOption(".telemetry-controls select >> nth=1", { label: "Last hour" });
  await page.locator("#telemetry-chart .empty", { hasText: "No spans in this window" }).waitFor();
  await audit(page, "telemetry-empty-window");
});
