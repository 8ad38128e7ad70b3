// The Identities and A2A channels pages at 1280 and 390 px, each state
// audited (no overflow, axe-core clean of serious violations, screenshots):
// no identities yet, registering two agents' identities (a taken name
// answered inline), certification with each check's result, the DID
// document, resolving an address (found and not found), no channels, a
// channel requested from the page waiting for approval (and in the one
// approvals queue), approved from the page with its participants, and the
// error state. Environment: browser.mjs, plus HOLDFAST_ALICE and
// HOLDFAST_BOB (two active agents' device ids).
import { base, ticket, run, step, audit } from "./browser.mjs";

const alice = process.env.HOLDFAST_ALICE;
const bob = process.env.HOLDFAST_BOB;

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

const clearNotices = (page) => page.evaluate(() => document.getElementById("alerts").replaceChildren());

async function register(page, device, name, reach) {
  await page.selectOption("#identity-form select[name=device_id]", device);
  await page.fill("#identity-form input[name=name]", name);
  if (reach) await page.locator("#identities-register input[type=checkbox]").check();
  await page.locator('#identity-form button[type="submit"]').click();
}

await run("identities", { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in; the Identities tab shows none yet");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  await visit(page, "identities");
  await page.locator("main h1", { hasText: "Identities" }).waitFor();
  await page.locator('.hub-tabs a[aria-current="page"]', { hasText: "Identities" }).waitFor();
  await page.locator("#identities-list .empty", { hasText: "No identities yet" }).waitFor();
  await audit(page, "identities-empty");

  step("register two identities; a taken name is answered inline");
  await register(page, alice, "alice", true);
  await page.locator('.identity[data-name="alice"]').waitFor();
  await register(page, bob, "alice", false);
  await page.locator("#identities-register .inline-error", { hasText: "That name is taken" }).waitFor();
  await page.fill("#identity-form input[name=name]", "bob");
  await page.fill("#identity-form input[name=display_name]", "Builder Bob");
  await page.locator('#identity-form button[type="submit"]').click();
  await page.locator('.identity[data-name="bob"] h3', { hasText: "Builder Bob" }).waitFor();
  // Both agents are named: the form gives way to a note.
  await page.locator("#identities-register .empty").waitFor();
  const listed = await (await fetch(`${base}/api/v1/agent-hub/hub/identities`, {
    headers: { authorization: `Bearer ${await page.evaluate(() => sessionStorage.getItem("holdfast.token"))}` },
  })).json();
  if (listed.length !== 2) throw new Error(`identities: ${JSON.stringify(listed)}`);
  await clearNotices(page);
  await audit(page, "identities-list");

  step("certify: every check listed with its result, the tier rises");
  const row = page.locator('.identity[data-name="alice"]');
  await row.locator('[data-action="certify"]').click();
  await row.locator(".check-results li").nth(4).waitFor();
  const passed = await row.locator('.check-results li[data-passed="true"]').count();
  if (passed !== 5) throw new Error(`${passed} of 5 checks passed`);
  await row.locator('.badge[data-tier="certified"]').waitFor();
  step("the DID document carries the agent's Ed25519 key");
  await row.locator('[data-action="did-document"]').click();
  await row.locator("pre.did-doc", { hasText: "JsonWebKey2020" }).waitFor();
  await clearNotices(page);
  await audit(page, "identities-certified");

  step("resolve an address, and one nobody answers to");
  await page.fill("#resolve-form input", "did:hub:bob");
  await page.locator('#resolve-form button[type="submit"]').click();
  await page.locator("#identities-resolve pre.did-doc", { hasText: "did:hub:bob" }).waitFor();
  await audit(page, "identities-resolve");
  await page.fill("#resolve-form input", "nobody");
  await page.locator('#resolve-form button[type="submit"]').click();
  await page.locator("#identities-resolve .resolved", { hasText: "No identity answers" }).waitFor();

  step("A2A: no channels yet");
  await page.locator('.hub-tabs a[href="#/a2a"]').click();
  await page.locator("main h1", { hasText: "A2A channels" }).waitFor();
  await page.locator("#a2a-channels .empty", { hasText: "No channels yet" }).waitFor();
  await page.locator("#a2a-federation .empty", { hasText: "No agreements" }).waitFor();
  if (await page.locator("#a2a-pending").isVisible()) throw new Error("the pending section shows with nothing pending");
  await audit(page, "a2a-empty");

  step("request a channel from the page: it waits for approval, here and in the queue");
  await page.selectOption("#a2a-form select[name=from]", { index: 0 });
  await page.fill("#a2a-form input[name=peer]", "bob");
  await page.fill("#a2a-form input[name=topic]", "weekly sync");
  await page.locator('#a2a-form button[type="submit"]').click();
  const pending = page.locator("#a2a-pending .channel", { hasText: "weekly sync" });
  await pending.waitFor();
  await pending.locator(".participants li").nth(1).waitFor();
  const queue = await (await api("/approvals")).json();
  if (!queue.some((a) => a.kind === "a2a_channel" && a.details.topic === "weekly sync")) {
    throw new Error(`no a2a_channel approval: ${JSON.stringify(queue)}`);
  }
  await clearNotices(page);
  await audit(page, "a2a-pending");

  step("approve it from the page: active, both participants active");
  await pending.locator('[data-action="approve"]').click();
  const active = page.locator("#a2a-channels .channel", { hasText: "weekly sync" });
  await active.locator('.channel-head .badge[data-status="active"]').waitFor();
  if ((await active.locator('.participants .badge[data-status="active"]').count()) !== 2) {
    throw new Error("the participants are not both active");
  }
  await page.locator("#a2a-pending").waitFor({ state: "hidden" });
  await clearNotices(page);
  await audit(page, "a2a-active");

  step("error: the hub answers 500, the page says so with a retry");
  await page.route("**/api/v1/agent-hub/hub/identities", (route) =>
    route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ detail: "boom" }) }));
  await visit(page, "identities");
  await page.locator("#identities-list .load-error", { hasText: "could not load" }).waitFor();
  await audit(page, "identities-error");
  await page.unroute("**/api/v1/agent-hub/hub/identities");
});
