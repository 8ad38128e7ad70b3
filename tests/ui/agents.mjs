// The Agents page and the chat at 1280 and 390 px, each state audited (no
// overflow, axe-core clean of serious violations, screenshots): loading,
// empty, an invite made (the token shown once, copied, its command line and
// a QR code that reads back as {hub_url, invite_token}), a real enrolment
// over the hub's HTTP route with that token (Ed25519 proof of possession)
// showing up live as a pending agent with the fingerprint the hub gave,
// approving it from the page, a second agent denied, the devices list,
// the chat with the send box off for an agent that is not active, on once
// it activates, the hub's 409 shown as a readable note, the box off while
// Holdfast is locked, a conversation drawn oldest first and read again
// without duplicates (a stand-in answer of the messages route: no agent
// with an MLS client runs here), revoking with a confirmation, an invite
// revoked, the error state, and offline when the daemon stops.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end), HOLDFAST_PASSPHRASE (to unlock again) and HOLDFAST_HUB (the hub's
// base URL).
import { generateKeyPairSync, sign, randomBytes } from "node:crypto";
import { base, ticket, run, step, audit, readQr } from "./browser.mjs";

const hub = process.env.HOLDFAST_HUB;

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Enrol an agent the way one does: a fresh Ed25519 key, its proof, the invite token. */
async function enrol(hubUrl, token, platform) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  const r = await fetch(`${hubUrl}/api/v1/enroll`, json({
    invite_token: token,
    identity_public_key: raw.toString("hex"),
    ephemeral_public_key: randomBytes(32).toString("hex"),
    proof_of_possession: sign(null, raw, privateKey).toString("hex"),
    platform,
  }));
  if (r.status !== 201) throw new Error(`enrol: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Make an invite on the page; returns {token, hubUrl}. */
async function invite(page, label) {
  await page.fill("#agents-invite-label", label);
  await page.locator('#agents-invite-form button[type="submit"]').click();
  await page.locator("#agents-new-invite h3", { hasText: label }).waitFor();
  const token = await page.inputValue("#agents-invite-token");
  const command = await page.inputValue("#agents-invite-command");
  const m = /^HUB_URL=(\S+) INVITE=(\S+)$/.exec(command);
  if (!m || m[2] !== token) throw new Error(`command line ${command}`);
  return { token, hubUrl: m[1] };
}

const clearNotices = (page) => page.evaluate(() => document.getElementById("alerts").replaceChildren());

await run("agents", { width: 1280, height: 800 }, async ({ page, api }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });

  step("log in; while the agents load, the page shows a skeleton");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/agents", async (route) => {
    await held;
    await route.continue();
  });
  await page.locator('nav a[href="#/agents"]').click();
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, "agents-loading");
  release();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
  await page.unroute("**/api/v1/agents");
  await page.locator("main h1", { hasText: "Agents" }).waitFor();

  step("empty: no agents, no invites, nothing pending");
  await page.locator("#agents-devices .empty", { hasText: "No agents yet" }).waitFor();
  await page.locator("#agents-invites .empty", { hasText: "No invites yet" }).waitFor();
  if (await page.locator("#agents-pending").isVisible()) throw new Error("the pending section shows with nothing pending");
  await audit(page, "agents-empty");

  step("make an invite: the token is shown once, copies, with a command line and a QR code");
  const first = await invite(page, "build server");
  if (first.hubUrl !== hub) throw new Error(`the invite names hub ${first.hubUrl}, not ${hub}`);
  await page.locator("#agents-new-invite .secret-warning", { hasText: "shown only now" }).waitFor();
  await page.locator('[data-copy="agents-invite-token"]').click();
  await page.waitForFunction(async (t) => (await navigator.clipboard.readText()) === t, first.token);
  await page.locator('[data-copy="agents-invite-command"]').click();
  await page.waitForFunction(async (t) => (await navigator.clipboard.readText()).endsWith(`INVITE=${t}`), first.token);
  const qr = await readQr(page, "#agents-new-invite svg.qr");
  if (JSON.stringify(JSON.parse(qr)) !== JSON.stringify({ hub_url: hub, invite_token: first.token })) {
    throw new Error(`the QR code reads ${qr}`);
  }
  await page.locator('#agents-invites tr[data-status="active"]', { hasText: "build server" }).waitFor();
  const listed = await (await api("/agents/invites")).text();
  if (listed.includes(first.token)) throw new Error("GET /agents/invites shows the token");
  await clearNotices(page);
  await audit(page, "agents-invite");

  step("after “I saved it” the token is gone from the page");
  await page.locator('[data-action="hide-invite"]').click();
  await page.locator("#agents-new-invite").waitFor({ state: "hidden" });
  if ((await page.content()).includes(first.token)) throw new Error("the token stays in the page");

  step("an agent enrols with the token over the hub's HTTP route: it shows up live as pending");
  const one = await enrol(hub, first.token, "linux-x86_64");
  const pending = page.locator(`#agents-pending .agent[data-key="${one.device_id}"]`);
  await pending.waitFor();
  await pending.locator("code.fingerprint.big", { hasText: one.fingerprint }).waitFor();
  await pending.locator("dd", { hasText: "linux-x86_64" }).waitFor();
  await page.locator('#agents-invites tr[data-status="consumed"]', { hasText: "build server" }).waitFor();
  // Its prompt is in the one approvals queue too.
  const queue = await (await api("/approvals")).json();
  if (!queue.some((a) => a.kind === "device_enrolment" && a.details.device_id === one.device_id)) {
    throw new Error(`no enrolment approval: ${JSON.stringify(queue)}`);
  }
  await audit(page, "agents-pending");

  step("approve it from the page: it leaves the pending list, the queue and shows approved");
  await pending.locator('[data-action="approve"]').click();
  await pending.waitFor({ state: "detached" });
  const device = page.locator(`#agents-devices .agent[data-key="${one.device_id}"]`);
  await device.locator('.agent-status[data-status="APPROVED"]').waitFor();
  if (await page.locator("#agents-pending").isVisible()) throw new Error("the pending section stays");
  const after = await (await api("/approvals")).json();
  if (after.some((a) => a.kind === "device_enrolment")) throw new Error("the enrolment prompt stays queued");

  step("a second agent enrols and is denied (its open approval answered deny)");
  const second = await invite(page, "old laptop");
  await page.locator('[data-action="hide-invite"]').click();
  const two = await enrol(second.hubUrl, second.token, "macos-arm64");
  // Its prompt is open in the queue, and the page knows it.
  const pendingTwo = page.locator(`#agents-pending .agent[data-key="${two.device_id}"][data-approval]`);
  await pendingTwo.waitFor();
  await pendingTwo.locator('[data-action="deny"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Deny agent" }).click();
  await pendingTwo.waitFor({ state: "detached" });
  await page.locator(`#agents-devices .agent[data-key="${two.device_id}"] .agent-status[data-status="REJECTED"]`).waitFor();
  const agents = await (await api("/agents")).json();
  if (agents.find((a) => a.device_id === two.device_id)?.status !== "REJECTED") throw new Error(`after deny: ${JSON.stringify(agents)}`);
  if (await page.locator(`#agents-devices .agent[data-key="${two.device_id}"] [data-action="revoke"]`).count()) {
    throw new Error("a denied agent offers Revoke");
  }

  step("an unused invite is revoked from the list");
  await invite(page, "spare");
  await page.locator('[data-action="hide-invite"]').click();
  await page.locator('#agents-invites tr[data-status="active"]', { hasText: "spare" }).locator('[data-action="revoke-invite"]').click();
  await page.locator('#agents-invites tr[data-status="revoked"]', { hasText: "spare" }).waitFor();
  await page.locator("#agents-invites .inline-error").waitFor({ state: "detached" }).catch(() => {});
  await device.locator(".presence", { hasText: /Never connected|Last seen/ }).waitFor();
  await clearNotices(page);
  await audit(page, "agents-devices");

  step("the chat with an agent that is not active yet: the box is off, saying why");
  await device.locator('[data-action="chat"]').click();
  await page.locator("main h1", { hasText: "Chat with" }).waitFor();
  await page.locator("#chat-empty", { hasText: "No messages yet" }).waitFor();
  await page.locator("#chat-reason", { hasText: "not connected yet" }).waitFor();
  if (await page.locator("#chat-input").isEnabled()) throw new Error("the box is on for an approved agent");
  if (await page.locator('#chat-form button[type="submit"]').isEnabled()) throw new Error("Send is on");
  await audit(page, "agents-chat-inactive");

  step("the agent activates: the box comes on by itself; the hub's 409 reads as a note");
  const act = await fetch(`${hub}/api/v1/devices/${one.device_id}/activate`, json({}));
  if (act.status !== 200) throw new Error(`activate: ${act.status} ${await act.text()}`);
  await page.locator("#chat-input:enabled").waitFor();
  await page.locator("#chat-reason").waitFor({ state: "hidden" });
  await page.locator("#chat-agent .agent-status[data-status=ACTIVE]").waitFor();
  await page.fill("#chat-input", "first line");
  await page.locator("#chat-input").press("Shift+Enter");
  await page.locator("#chat-input").pressSequentially("second line");
  if ((await page.inputValue("#chat-input")) !== "first line\nsecond line") throw new Error("Shift+Enter did not start a line");
  await page.locator("#chat-input").press("Enter");
  // No agent process runs here: it has published no KeyPackage, so the
  // hub refuses with 409, shown in words beside the box.
  await page.locator("#chat-form .inline-error", { hasText: /cannot receive|encryption keys/ }).waitFor();
  if ((await page.inputValue("#chat-input")) !== "first line\nsecond line") throw new Error("a refused message was cleared");
  if (await page.locator("#chat-log li").count()) throw new Error("a refused message shows as sent");
  await audit(page, "agents-chat-refused");

  step("while Holdfast is locked the box is off, saying why");
  const locked = await api("/identity/lock", json({}));
  if (!locked.ok) throw new Error(`lock: ${locked.status}`);
  await page.locator("#chat-reason", { hasText: "locked" }).waitFor();
  if (await page.locator("#chat-input").isEnabled()) throw new Error("the box is on while locked");
  // Opened afresh while locked: the box stays off. (Reading works: the
  // owner's message key stays for the session, like backup keys.) No agent
  // process with an MLS client runs here, so the conversation the page
  // reads is a stand-in answer of the messages route: three messages, one
  // with a line break, in the route's order (oldest first).
  const t0 = Date.now() - 120_000;
  const convo = [
    { message_id: "m1", direction: "to_agent", text: "Status of the nightly build?", created_at_ms: t0 },
    { message_id: "m2", direction: "from_agent", text: "Green.\n142 tests passed in 3 min.", created_at_ms: t0 + 30_000 },
    { message_id: "m3", direction: "to_agent", text: "Thanks!", created_at_ms: t0 + 60_000 },
    { message_id: "m4", direction: "from_agent", text: "Any time.", created_at_ms: t0 + 90_000 },
  ];
  let reads = 0;
  await page.route(`**/api/v1/agents/${one.device_id}/messages*`, (route) => {
    if (route.request().method() !== "GET") return route.continue();
    reads += 1;
    // Read again later, the conversation has grown by one.
    const body = reads === 1 ? convo.slice(0, 3) : convo;
    return route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
  });
  await visit(page, "agents");
  await visit(page, `agents/${one.device_id}`);
  await page.locator("#chat-reason", { hasText: "locked" }).waitFor();
  await page.locator('#chat-log li[data-key="m3"]').waitFor();
  if (await page.locator("#chat-input").isEnabled()) throw new Error("the box is on while locked");
  await audit(page, "agents-chat-locked");
  const unlocked = await api("/identity/unlock", json({ passphrase: process.env.HOLDFAST_PASSPHRASE }));
  if (!unlocked.ok) throw new Error(`unlock: ${unlocked.status}`);
  await page.locator("#chat-input:enabled").waitFor();
  await page.locator("#chat-reason").waitFor({ state: "hidden" });

  step("the conversation: oldest first, to the agent on the right, read again without duplicates");
  // Unlocking reads the conversation again: the three known messages once
  // each, and the new one after them.
  await page.locator('#chat-log li[data-key="m4"]').waitFor();
  const bubbles = await page.locator("#chat-log li").evaluateAll((els) => els.map((e) => ({
    id: e.dataset.key, dir: e.dataset.direction, text: e.querySelector(".bubble-text").textContent,
    right: getComputedStyle(e).alignSelf === "flex-end",
  })));
  const want = convo.map((m) => ({ id: m.message_id, dir: m.direction, text: m.text, right: m.direction === "to_agent" }));
  if (JSON.stringify(bubbles) !== JSON.stringify(want)) throw new Error(`bubbles ${JSON.stringify(bubbles)}`);
  await audit(page, "agents-chat");
  await page.unroute(`**/api/v1/agents/${one.device_id}/messages*`);

  step("revoke the agent from the list, after a confirmation (cancel first)");
  await page.locator(".back-link").click();
  await device.locator('[data-action="revoke"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await device.locator('.agent-status[data-status="ACTIVE"]').waitFor();
  await device.locator('[data-action="revoke"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke agent" }).click();
  await device.locator('.agent-status[data-status="REVOKED"]').waitFor();
  await device.locator('[data-action="revoke"]').waitFor({ state: "detached" });
  if ((await (await api("/agents")).json()).find((a) => a.device_id === one.device_id)?.status !== "REVOKED") {
    throw new Error("the agent is not revoked");
  }
  await device.locator('[data-action="chat"]').click();
  await page.locator("#chat-reason", { hasText: "revoked" }).waitFor();

  step("an error: the agents cannot load, the page says so and offers a retry");
  await page.route("**/api/v1/agents", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "agents");
  await page.locator(".agents-unavailable").getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "agents-error");
  await page.unroute("**/api/v1/agents");
  await page.locator(".agents-unavailable button").click();
  await page.locator("#agents-devices").waitFor();
  await page.locator(".agents-unavailable").waitFor({ state: "detached" });

  step("the daemon stops: the shell's offline banner, no stale agents");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.locator("#agents-devices").count()) throw new Error("the agents stay shown while offline");
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled with the daemon gone");
  await audit(page, "agents-offline");
});
