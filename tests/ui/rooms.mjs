// The Rooms and Policies pages in a real browser, with real MLS agents run
// by the Rust test (tests/e2e/ui_rooms.rs): the empty rooms list; a room
// created with two agents ticked; the room view with its members, a
// message written here, an agent's message arriving live; a hold policy
// made with the form; the agent's next message held and shown with its
// metadata; approving it delivers it to the room's timeline. Every state
// audited at 390 and 1280 px (no overflow, axe clean, screenshots).
// Environment: browser.mjs, plus HOLDFAST_AGENT_A and HOLDFAST_AGENT_B
// (the agents' device ids).
import { base, ticket, run, step, audit } from "./browser.mjs";

const agentA = process.env.HOLDFAST_AGENT_A;
const agentB = process.env.HOLDFAST_AGENT_B;

async function settle(page) {
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

await run("rooms", { width: 1280, height: 800 }, async ({ page }) => {
  step("log in; the rooms list is empty");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  await page.goto(`${base}/#/rooms`);
  await settle(page);
  await page.locator("main h1", { hasText: "Rooms" }).waitFor();
  await page.locator('.hub-tabs a[aria-current="page"]', { hasText: "Rooms" }).waitFor();
  await page.locator("#rooms-list .empty").waitFor();
  await audit(page, "rooms-empty");

  step("create a room with both agents; the page opens it");
  await page.fill("#room-name", "Crew");
  await page.locator(`[data-member="${agentA}"]`).check();
  await page.locator(`[data-member="${agentB}"]`).check();
  await page.locator('#room-form button[type="submit"]').click();
  await page.locator("main h1", { hasText: "Crew" }).waitFor();
  await settle(page);
  for (const id of [agentA, agentB]) await page.locator(`#room-members li[data-key="${id}"]`).waitFor();
  await page.locator("#room-empty").waitFor();

  step("write into the room; an agent answers live");
  await page.fill("#room-input", "hello crew");
  await page.press("#room-input", "Enter");
  await page.locator("#room-log li", { hasText: "hello crew" }).waitFor();
  await page.locator("#room-log li", { hasText: "hi owner" }).waitFor({ timeout: 30000 });
  const texts = await page.locator("#room-log li").allInnerTexts();
  if (texts.filter((t) => t.includes("hi owner")).length !== 1) throw new Error(`drawn twice: ${JSON.stringify(texts)}`);
  await audit(page, "rooms-room");

  step("back to the list: the room is there");
  await page.locator(".back-link").click();
  await page.locator("#rooms-list article", { hasText: "Crew" }).waitFor();
  await audit(page, "rooms-list");

  step("policies: nothing yet; make a hold policy with the form");
  await page.goto(`${base}/#/policies`);
  await settle(page);
  await page.locator("#policies-list .empty").waitFor();
  await page.locator("#policies-held .empty").waitFor();
  const form = page.locator("#policies-new form");
  await form.getByLabel("Name", { exact: true }).fill("Hold everything");
  await form.getByLabel("Action", { exact: true }).selectOption("hold");
  await form.locator("summary").click();
  await form.getByLabel("Message types").fill("text");
  await form.locator('button[type="submit"]').click();
  await page.locator("#policies-list article", { hasText: "Hold everything" }).waitFor();
  await audit(page, "policies-list");

  step("the agent's next message is held and shown with its metadata only");
  const held = page.locator("#policies-held li.held");
  await held.waitFor({ timeout: 30000 });
  await held.locator("dd", { hasText: "Crew" }).waitFor();
  await held.locator("dd", { hasText: "Hold everything" }).waitFor();
  if ((await held.innerText()).includes("needs approval")) throw new Error("the held preview shows content");
  await audit(page, "policies-held");

  step("approve it: it leaves the list and reaches the room");
  await held.locator('[data-action="approve-held"]').click();
  await page.locator("#policies-held .empty").waitFor();
  await page.goto(`${base}/#/rooms`);
  await settle(page);
  await page.locator("#rooms-list article a", { hasText: "Crew" }).click();
  await page.locator("#room-log li", { hasText: "needs approval" }).waitFor({ timeout: 30000 });
});
