// The chat with a real agent (an MLS client in the Rust test, connected to
// the hub): the conversation so far is drawn oldest first; a message typed
// here and sent with Enter reaches the agent, whose encrypted reply comes
// back live through the `agent_message` event, once. Audited at 1280 and
// 390 px. Environment: browser.mjs, plus HOLDFAST_AGENT (its device id).
import { base, ticket, run, step, audit } from "./browser.mjs";

const agent = process.env.HOLDFAST_AGENT;

await run("agents-chat-live", { width: 1280, height: 800 }, async ({ page }) => {
  step("log in and open the chat with the agent");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  await page.goto(`${base}/#/agents/${agent}`);
  await page.locator("#chat-log li", { hasText: "hello from the test" }).waitFor();
  await page.locator("#chat-log li", { hasText: "hello back" }).waitFor();

  step("type a message and send it with Enter; the agent's reply arrives live");
  const input = page.locator("#chat-form textarea");
  await input.fill("ping from the browser");
  await input.press("Enter");
  await page.locator("#chat-log li", { hasText: "ping from the browser" }).waitFor();
  await page.locator("#chat-log li", { hasText: "pong from the agent" }).waitFor({ timeout: 20000 });
  const texts = await page.locator("#chat-log li").allInnerTexts();
  const order = ["hello from the test", "hello back", "ping from the browser", "pong from the agent"]
    .map((t) => texts.findIndex((x) => x.includes(t)));
  if (order.some((i) => i < 0) || order.some((i, k) => k > 0 && i <= order[k - 1])) {
    throw new Error(`conversation out of order: ${JSON.stringify(texts)}`);
  }
  if (texts.filter((x) => x.includes("pong from the agent")).length !== 1) {
    throw new Error(`the reply is drawn more than once: ${JSON.stringify(texts)}`);
  }
  await audit(page, "agents-chat-live");
});
