// The Network page at 1280 and 390 px, each state audited (no overflow,
// axe-core clean of serious violations, screenshots): the welcome with no
// network, a failed join, creating a network, the invite link with its QR
// code (read back with jsQR from what the browser drew), a second daemon
// joining (live, connected, speed test), the error state
// when the network routes fail, and offline when the daemon stops.
// A daemon without the network routes (404) gets the unavailable state
// checked instead of the flows that need them.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end), HOLDFAST_PEER_URL and HOLDFAST_PEER_TOKEN (a second daemon and its
// owner bearer: the device that joins).
import { base, ticket, run, step, audit, readQr } from "./browser.mjs";

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

await run("network", { width: 1280, height: 800 }, async ({ page, api }) => {
  step("log in, the navigation leads to Network");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/network"]').waitFor({ state: "attached" });
  await page.locator('nav a[href="#/network"]').click();
  await page.locator("main h1", { hasText: "Network" }).waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));

  const probe = await api("/networks");
  if (probe.status === 404) {
    step("this daemon has no network routes: the page says so, with a retry");
    await page.locator(".network-unavailable").getByRole("button", { name: "Try again" }).waitFor();
    await audit(page, "network-unavailable");
  } else {
    if (!probe.ok) throw new Error(`GET /networks: ${probe.status}`);
    step("no network: a welcome with create and join");
    await page.locator(".welcome").waitFor();
    await page.locator("#create-network-form").waitFor();
    await page.locator("#join-network-form").waitFor();
    if (await page.locator("#peers").isVisible()) throw new Error("peers shown without a network");
    await audit(page, "network-empty");

    step("joining with something that is not an invite is refused beside the form");
    await page.fill("#join-url", "https://example.com/not-an-invite");
    await page.locator('#join-network-form button[type="submit"]').click();
    await page.locator("#join-network-form .inline-error").waitFor();
    await page.fill("#join-url", "holdfast://join/v1/this-is-not-valid");
    await page.locator('#join-network-form button[type="submit"]').click();
    await page.waitForFunction(() => {
      const e = document.querySelector("#join-network-form .inline-error");
      return e && !/starts with holdfast/.test(e.textContent);
    });
    await audit(page, "network-join-error");

    step("create a network");
    await page.fill("#network-name", "Home lab");
    await page.locator('#create-network-form button[type="submit"]').click();
    await page.locator(".network-name", { hasText: "Home lab" }).waitFor();
    const nets = await (await api("/networks")).json();
    const net = nets.networks.find((n) => n.id === nets.active_id);
    if (!net || net.name !== "Home lab") throw new Error(`after create: ${JSON.stringify(nets)}`);
    await page.locator(".fingerprint", { hasText: net.fingerprint }).waitFor();
    await page.locator("#saved-networks tr", { hasText: "Home lab" }).waitFor();
    await page.locator("#peers").waitFor();
    await page.locator("#topology svg.topology .node.self").waitFor();
    await page.locator("#traffic .traffic-summary").waitFor();
    await audit(page, "network-created");

    step("an invite link, with Copy and a QR code that reads back as the link");
    await page.locator('[data-action="invite"]').click();
    await page.locator('#invite-form button[type="submit"]').click();
    await page.locator("#invite-url").waitFor();
    const url = await page.inputValue("#invite-url");
    if (!url.startsWith("holdfast://join/")) throw new Error(`invite url: ${url}`);
    await page.locator('[data-action="copy"]').waitFor();
    const read = await readQr(page);
    if (read !== url) throw new Error(`the QR code reads ${JSON.stringify(read)}, not the link ${url}`);
    await audit(page, "network-invite");

    step("a second device joins with the link: it shows up live, connected, and answers a speed test");
    const joined = await fetch(`${process.env.HOLDFAST_PEER_URL}/api/v1/networks`, {
      method: "POST",
      headers: { authorization: `Bearer ${process.env.HOLDFAST_PEER_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ url }),
    });
    if (joined.status !== 201) throw new Error(`the peer could not join: ${joined.status} ${await joined.text()}`);
    const peerRow = page.locator("#peers tbody tr", { hasText: "Connected" });
    await peerRow.waitFor({ timeout: 30000 });
    await peerRow.locator('[data-action="speedtest"]').click();
    await peerRow.locator(".speed-result", { hasText: / ms · / }).waitFor({ timeout: 30000 });
    await page.locator("#topology .node.on:not(.self)").waitFor();
    await audit(page, "network-peers");

    step("the second device leaves: the page follows without a reload");
    const left = await fetch(`${process.env.HOLDFAST_PEER_URL}/api/v1/networks/disconnect`, {
      method: "POST", headers: { authorization: `Bearer ${process.env.HOLDFAST_PEER_TOKEN}` },
    });
    if (!left.ok) throw new Error(`the peer could not leave: ${left.status}`);
    await page.waitForFunction(() => !document.querySelector("#peers .dot.on"), null, { timeout: 30000 });

    step("disconnect, then connect again");
    await page.locator('#network-state [data-action="disconnect"]').click();
    await page.locator("#network-state .network-state", { hasText: "Disconnected" }).waitFor();
    await page.locator("#network-state .not-connected").waitFor();
    await audit(page, "network-disconnected");
    await page.locator("#saved-networks tr", { hasText: "Home lab" }).locator('[data-action="connect"]').click();
    await page.locator('#network-state [data-action="disconnect"]').waitFor();
  }

  step("an error: the network cannot load, the page says so and offers a retry");
  await page.route("**/api/v1/networks", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "network");
  await page.locator(".network-unavailable").getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "network-error");
  await page.unroute("**/api/v1/networks");
  await page.locator(".network-unavailable button").click();
  await page.locator("main h1", { hasText: "Network" }).waitFor();
  if (probe.status !== 404) await page.locator(".network-unavailable").waitFor({ state: "detached" });

  step("the daemon stops: the shell's offline banner, no stale network");
  await visit(page, "network");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.locator("#network-state").count()) throw new Error("the network state stays shown while offline");
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled with the daemon gone");
  await audit(page, "network-offline");
});
