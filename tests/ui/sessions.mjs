// The Sessions page (coding-agent sessions, issue 22) in a real browser, at
// 1280 and 390 px, each state audited (no overflow, axe-core clean of
// serious violations, screenshots): no instances yet; loading; an instance
// of Claude Code created from the form (on a machine without the program:
// "not installed" with its install hint, and no session can start); its
// provider key set through a password field that is never echoed (the hint
// shows); a workspace folder registered; a session (made over the API when
// the program is missing) opened by its deep link: the status chip, an
// empty transcript, the files of its workspace with download links that
// carry ?token=; settings saved; archived and back; a search with no hit;
// a prompt sent to a session whose program is missing (the page shows the
// error); fork, deleted with a confirmation; an unknown session id (the
// error state with Try again); the page failing to load and recovering;
// and offline once the daemon stops. With HOLDFAST_LIVE, one real turn:
// the agent asks to write a file, the request shows inline and in the
// approvals queue with a readable preview, Allow, the file lands in the
// Files panel; then a question with options answered inline.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end), HOLDFAST_WORKSPACE (a folder with README.md and src/main.rs), and
// for the live turn HOLDFAST_LIVE=1 and HOLDFAST_MODEL_URL (the stand-in
// model API, given as the provider's base URL).
import { base, ticket, run, step, audit } from "./browser.mjs";

const workspace = process.env.HOLDFAST_WORKSPACE;
const live = !!process.env.HOLDFAST_LIVE;
const modelUrl = process.env.HOLDFAST_MODEL_URL;
const KEY = "sk-ant-test-0123456789-secretkey-wxyz";
// Screenshot names: sessions-… or, for the live turn, sessions-live-….
const P = live ? "sessions-live" : "sessions";

async function settle(page) {
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await settle(page);
}

async function json(res, what) {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

await run(P, { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in; Agents → Sessions: no instances yet");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/agents"]').waitFor({ state: "attached" });
  await page.goto(`${base}/#/agents`);
  await settle(page);
  await page.locator('.hub-tabs a[href="#/sessions"]').click();
  await page.locator("main h1", { hasText: "Sessions" }).waitFor();
  await settle(page);
  await page.locator('.hub-tabs a[aria-current="page"]', { hasText: "Sessions" }).waitFor();
  await page.locator('nav#nav a[href="#/agents"][aria-current="page"]').waitFor({ state: "attached" });
  await page.locator("#agent-instances .empty", { hasText: "No agent instances yet" }).waitFor();
  if (!(await page.locator("details.new-instance").evaluate((d) => d.open))) throw new Error("the form to create one is folded away");
  await audit(page, `${P}-empty`);

  step("while the instances load, the page shows a skeleton");
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(/\/api\/v1\/instances$/, async (route) => {
    await held;
    await route.continue();
  });
  await visit(page, "home");
  await page.goto(`${base}/#/sessions`);
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, `${P}-loading`);
  release();
  await settle(page);
  await page.unroute(/\/api\/v1\/instances$/);

  step("create a Claude Code instance; without the program it says so, with the install hint");
  const caps = (await json(await api("/capabilities"), "capabilities")).agents;
  const claude = caps.find((c) => c.type === "claude");
  if (!claude) throw new Error(`no claude in ${JSON.stringify(caps)}`);
  const form = page.locator("#instance-form");
  await form.getByLabel("Agent").selectOption("claude");
  if (!claude.installed) {
    await form.locator(".install-hint", { hasText: "not installed" }).waitFor();
    if (claude.install_hint) await form.locator(".install-hint code", { hasText: claude.install_hint }).waitFor();
  }
  await form.getByLabel("Name").fill("My Claude");
  await form.locator('button[type="submit"]').click();
  await page.locator("#agent-instance h2", { hasText: "My Claude" }).waitFor();
  await settle(page);
  const inst = (await json(await api("/instances"), "instances")).instances.find((i) => i.name === "My Claude");
  if (!page.url().endsWith(`#/sessions/${inst.id}`)) throw new Error(`the page went to ${page.url()}`);
  await page.locator(`.instance-item[aria-current][href="#/sessions/${inst.id}"]`).waitFor();
  await page.locator("#agent-sessions .empty", { hasText: "No sessions yet" }).waitFor();
  if (!inst.available) {
    await page.locator("#agent-instance .not-installed").waitFor();
    if (claude.install_hint) await page.locator("#agent-instance .not-installed code", { hasText: claude.install_hint }).waitFor();
    if (await page.locator('#session-form button[type="submit"]').isEnabled()) throw new Error("a session can start without the program");
  } else {
    await page.locator("#agent-instance code", { hasText: inst.program.path }).waitFor();
  }
  await audit(page, `${P}-instance`);

  step("set the provider key: a password field, cleared after saving, the hint shown, the key never on the page");
  const provider = page.locator(".provider-form").first();
  const keyInput = provider.locator('input[type="password"]');
  if ((await keyInput.getAttribute("autocomplete")) !== "new-password") throw new Error("the key field may be autofilled");
  await keyInput.fill(KEY);
  if (live && modelUrl) {
    await provider.locator("summary", { hasText: "Advanced" }).click();
    await provider.getByLabel("Base URL (optional)").fill(modelUrl);
  }
  await provider.locator('button[type="submit"]').click();
  await page.locator(".provider-form .key-hint", { hasText: KEY.slice(-4) }).waitFor();
  await page.locator(".provider-form .badge", { hasText: "Key set" }).waitFor();
  if (await page.locator('.provider-form input[type="password"]').first().inputValue()) throw new Error("the key stays in the field");
  const html = await page.content();
  if (html.includes(KEY) || html.includes(KEY.slice(0, 20))) throw new Error("the key is on the page");
  const providers = (await json(await api(`/instances/${inst.id}/providers`), "providers")).providers;
  if (!providers.some((p) => p.key_set)) throw new Error(`no key set: ${JSON.stringify(providers)}`);

  step("register a workspace folder");
  const wsForm = page.locator(".workspace-form");
  await wsForm.getByLabel("Folder").fill("relative/path");
  await wsForm.locator('button[type="submit"]').click();
  await page.locator("#instance-workspaces .inline-error").waitFor();
  await wsForm.getByLabel("Folder").fill(workspace);
  await wsForm.getByLabel("Name (optional)").fill("demo");
  await wsForm.locator('button[type="submit"]').click();
  await page.locator(".workspace-list .workspace", { hasText: workspace }).waitFor();
  await page.locator("#instance-workspaces .inline-error").waitFor({ state: "detached" });
  await page.locator("#session-form select[name=workspace] option", { hasText: "demo" }).waitFor({ state: "attached" });
  await audit(page, `${P}-instance-set`);

  let sid;
  if (live) {
    step("live: start a session with a first prompt; the agent asks to write a file");
    const details = page.locator("details.new-session");
    if (!(await details.evaluate((d) => d.open))) await details.locator("summary").click();
    const sform = page.locator("#session-form");
    await sform.getByLabel("Title (optional)").fill("Write a greeting");
    await sform.locator("select[name=workspace]").selectOption(workspace);
    // The stand-in model API answers WRITE_FILE with a Write of hello.txt.
    await sform.getByLabel("First prompt (optional)").fill("Please WRITE_FILE now");
    await sform.locator('button[type="submit"]').click();
    await page.locator("#agent-session").waitFor();
    await settle(page);
    sid = decodeURIComponent(page.url().split("/").pop());
    const ask = page.locator(".session-approval[data-kind=tool_call]");
    await ask.waitFor({ timeout: 60000 });
    await ask.locator("h3", { hasText: "Write" }).waitFor();
    await ask.locator(".tool-input code", { hasText: "hello.txt" }).first().waitFor();
    await page.locator("#session-status[data-status=waiting]").waitFor();
    await page.locator("#session-input[disabled]").waitFor();
    await page.locator('[data-action="stop-run"]').waitFor();
    await audit(page, `${P}-approval`);

    step("live: the same request in the approvals queue, with a readable preview");
    await visit(page, "approvals");
    const card = page.locator('.approval.card[data-kind="tool_call"]');
    await card.waitFor();
    await card.locator(".tool-preview", { hasText: "Write" }).waitFor();
    await card.locator(".tool-input code", { hasText: "hello.txt" }).first().waitFor();
    await audit(page, `${P}-approval-queue`);

    step("live: Allow inline; the turn ends and the file is in the Files panel");
    await visit(page, `sessions/${inst.id}/${sid}`);
    await page.locator(".session-approval [data-action=allow]").click();
    await page.locator(".session-approval").waitFor({ state: "detached" });
    await page.locator("#session-status[data-status=idle]").waitFor({ timeout: 60000 });
    await page.locator("#session-transcript .kind-tool_use").first().waitFor();
    await page.locator("#session-transcript .kind-result").first().waitFor();
    await page.locator("#session-files .file-link", { hasText: "hello.txt" }).waitFor({ timeout: 20000 });
    await page.locator("#session-transcript .kind-tool_use summary").first().click();
    await audit(page, `${P}-turn`);

    step("live: a prompt sent with Enter; the agent asks a question with options, answered inline");
    await page.fill("#session-input", "Now ASK_QUESTION please");
    await page.press("#session-input", "Enter");
    const q = page.locator(".session-approval[data-kind=question]");
    await q.waitFor({ timeout: 60000 });
    await q.locator("legend", { hasText: "Which colour?" }).waitFor();
    await q.locator("label", { hasText: "Red" }).waitFor();
    await audit(page, `${P}-question`);
    await q.locator("label", { hasText: "Blue" }).click();
    await q.locator("[data-action=reply]").click();
    await q.waitFor({ state: "detached" });
    await page.locator("#session-status[data-status=idle]").waitFor({ timeout: 60000 });
    await page.locator("#session-transcript .kind-text", { hasText: "Blue" }).last().waitFor({ timeout: 20000 });
  } else {
    step("a session made over the API (the program is missing), opened by its deep link");
    const made = await json(await api(`/instances/${inst.id}/sessions`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "Fix the build", workspace }),
    }), "new session");
    sid = made.id;
    await visit(page, `sessions/${inst.id}/${sid}`);
  }

  step("the session: status, transcript, prompt box, files with download links");
  await page.locator("#agent-session h2", { hasText: live ? "Write a greeting" : "Fix the build" }).waitFor();
  await page.locator(`#agent-sessions .session-item[aria-current="page"][data-session="${sid}"]`).waitFor({ state: "attached" });
  await page.locator("#session-status[data-status=idle]").waitFor();
  if (!live) await page.locator("#agent-session .empty", { hasText: "No messages yet" }).waitFor();
  await page.locator("#session-input:not([disabled])").waitFor();
  const readme = page.locator("#session-files .file-link", { hasText: "README.md" });
  await readme.waitFor();
  await page.locator("#session-files .file-link", { hasText: "src/main.rs" }).waitFor();
  const href = await readme.getAttribute("href");
  if (!/[?&]token=/.test(href) || !/[?&]path=README\.md/.test(href)) throw new Error(`the download link is ${href}`);
  const got = await page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, text: await r.text() }; }, href);
  if (got.status !== 200 || !got.text.includes("# Demo")) throw new Error(`download: ${JSON.stringify(got)}`);
  await audit(page, `${P}-session`);

  step("settings: title, model and tool permissions saved");
  await page.locator('[data-action="settings"]').click();
  const settings = page.locator(".settings-form");
  await settings.getByLabel("Title").fill("Fix the build, again");
  await settings.getByLabel("Tool permissions").selectOption("acceptEdits");
  await settings.locator('button[type="submit"]').click();
  await page.locator("#agent-session h2", { hasText: "Fix the build, again" }).waitFor();
  await page.locator(".settings-form").waitFor({ state: "hidden" });
  const after = await json(await api(`/sessions/${sid}`), "session");
  if (after.title !== "Fix the build, again" || after.permission_mode !== "acceptEdits") throw new Error(`saved ${JSON.stringify(after)}`);
  await page.locator("#agent-sessions .session-item", { hasText: "Fix the build, again" }).waitFor();

  step("archive: gone from the list unless archived ones are shown; unarchive");
  await page.locator('[data-action="archive"]').click();
  await page.locator('[data-action="unarchive"]').waitFor();
  if (!(await json(await api(`/sessions/${sid}`), "session")).archived) throw new Error("not archived");
  await page.locator("#agent-sessions .session-item").first().waitFor({ state: "detached" });
  await page.locator("#agent-sessions").getByLabel("Show archived").check();
  await page.locator("#agent-sessions .session-item", { hasText: "archived" }).waitFor();
  await page.locator("#session-input[disabled]").waitFor();
  await page.locator('[data-action="unarchive"]').click();
  await page.locator('[data-action="archive"]').waitFor();
  await page.locator("#agent-sessions").getByLabel("Show archived").uncheck();
  await page.locator("#agent-sessions .session-item").first().waitFor();

  step("search over the transcripts");
  await page.locator("#agent-sessions").getByLabel("Search sessions").fill(live ? "hello" : "nothing-like-this");
  if (live) await page.locator("#agent-sessions .search-hit").first().waitFor();
  else await page.locator("#agent-sessions .search-results .empty", { hasText: "Nothing in the transcripts matches" }).waitFor();
  await audit(page, `${P}-search`);
  await page.locator("#agent-sessions").getByLabel("Search sessions").fill("");
  await page.locator("#agent-sessions .search-results").waitFor({ state: "hidden" });

  if (!live && !inst.available) {
    step("a prompt to a session whose program is missing: the page says what went wrong");
    await page.fill("#session-input", "hello?");
    await page.press("#session-input", "Enter");
    const failed = page.locator("#session-prompt .inline-error, #session-status[data-status=error]");
    await failed.first().waitFor({ timeout: 30000 });
    if (await page.locator("#session-status[data-status=error]").count()) {
      await page.locator("#agent-session .session-error").waitFor();
    }
    await audit(page, `${P}-send-error`);
  } else if (live) {
    step("live: fork from the first message");
    await page.locator("#session-transcript .kind-text [data-action=fork]").first().click();
    await page.waitForFunction((old) => !location.hash.endsWith(old), sid);
    await settle(page);
    await page.locator("#agent-session .session-meta a", { hasText: "another session" }).waitFor();
  }

  step("delete the session, after a confirmation");
  const doomed = decodeURIComponent(page.url().split("/").pop());
  await page.locator('[data-action="delete"]').click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Delete session" }).click();
  await page.waitForFunction(() => !document.getElementById("agent-session"));
  await settle(page);
  if ((await api(`/sessions/${doomed}`)).status !== 404) throw new Error("the session is still there");

  step("an unknown session id: the error, with Try again");
  await visit(page, `sessions/${inst.id}/as_${"0".repeat(32)}`);
  const err = page.locator(".session-unavailable[role=alert]");
  await err.waitFor();
  await err.getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, `${P}-error`);
  await err.getByRole("button", { name: "Try again" }).click();
  await settle(page);
  await page.locator(".session-unavailable").waitFor();

  step("the page cannot load: it says so, Try again recovers");
  await page.route(/\/api\/v1\/instances$/, (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "database is locked" }),
  }));
  await visit(page, "sessions");
  const down = page.locator(".sessions-unavailable[role=alert]");
  await down.getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, `${P}-load-error`);
  await page.unroute(/\/api\/v1\/instances$/);
  await down.getByRole("button", { name: "Try again" }).click();
  await page.locator("#agent-instances .instance-item", { hasText: "My Claude" }).waitFor();
  await page.locator(".sessions-unavailable").waitFor({ state: "detached" });

  step("the daemon stops: the offline banner, nothing stale, no actions");
  await visit(page, `sessions/${inst.id}`);
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.locator("#agent-instances").count()) throw new Error("the instances stay shown while offline");
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled with the daemon gone");
  await audit(page, `${P}-offline`);
});
