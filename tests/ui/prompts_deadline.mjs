// Approval popups as a request ends without an answer (environment:
// browser.mjs, plus IPC_URL, the daemon's IPC base URL; the daemon's
// prompts time out after a short while). An app that withdraws its request
// is shown as having withdrawn it; one left unanswered turns urgent in its
// last seconds (announced once) and then says it timed out: denied.
import { base, ticket, run, step, audit } from "./browser.mjs";

const ipc = process.env.IPC_URL;

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

/** Start a sign-in request as an app would; returns its AbortController and response promise. */
function authenticate(clientId, name) {
  const abort = new AbortController();
  const response = fetch(`${ipc}/authenticate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ app_name: name, client_id: clientId, reason: "Open your calendar" }),
    signal: abort.signal,
  }).then((r) => r.status, (e) => (abort.signal.aborted ? "aborted" : Promise.reject(e)));
  return { abort, response };
}

async function pendingFor(api, page, clientId) {
  for (let i = 0; i < 200; i++) {
    const list = await (await api("/approvals")).json();
    const a = list.find((x) => x.requester.client_id === clientId);
    if (a) return a;
    await page.waitForTimeout(50);
  }
  throw new Error(`no request from ${clientId}`);
}

await run("prompts-deadline", { width: 1280, height: 800 }, async ({ page, shot, api }) => {
  step("bootstrap login");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}`);
  await page.locator('nav a[href="#/home"]').waitFor();

  step("an app withdraws its request");
  const gone = authenticate("quitter", "Quitter");
  const first = await pendingFor(api, page, "quitter");
  await page.goto(`${base}/#/popup/${first.id}`);
  await page.locator(`article.approval[data-id="${first.id}"]`).waitFor();
  gone.abort.abort();
  expect((await gone.response) === "aborted", "the request was not aborted");
  const result = page.locator(".popup .approval-result .result-text");
  await result.waitFor();
  const said = (await result.innerText()).trim();
  expect(said === "Unverified app (quitter) withdrew its request.", `after withdrawing: ${said}`);

  step("an unanswered request turns urgent, then times out");
  const slow = authenticate("slow_app", "Slow App");
  const second = await pendingFor(api, page, "slow_app");
  await page.goto(`${base}/#/popup/${second.id}`);
  const card = page.locator(`article.approval[data-id="${second.id}"]`);
  await card.waitFor();
  await page.locator("article.approval.urgent").waitFor({ timeout: 30000 });
  const announced = (await card.locator(".deadline [aria-live]").innerText()).trim();
  expect(/^\d+ seconds left to answer/.test(announced), `announcement: ${announced}`);
  await audit(page, "popup-urgent");
  await result.waitFor({ timeout: 30000 });
  const timedOut = (await result.innerText()).trim();
  expect(timedOut.startsWith("Timed out: denied."), `after the deadline: ${timedOut}`);
  expect((await slow.response) === 408, "the app was not told it timed out");
  await shot("popup-timed-out");
});
