// The S3 page at 1280 and 390 px, each state audited (no overflow, axe-core
// clean of serious violations, screenshots): loading, empty (no keys), the
// listener switched on (its endpoint answers) and off, minting refused
// while Holdfast is locked, minting a key (the secret shown once, copied to
// the clipboard, in the client settings, never in the list), permissions
// added, changed, refused with no operation, and removed, revoking with a
// confirmation, the error state when the S3 routes fail, and offline when
// the daemon stops.
// Environment: browser.mjs, plus HOLDFAST_PID (the daemon, stopped at the
// end) and HOLDFAST_PASSPHRASE (to unlock again). The daemon holds a vault
// "Photos" whose S3 alias is "photos".
import { base, ticket, run, step, audit } from "./browser.mjs";

async function visit(page, route) {
  await page.goto(`${base}/#/${route}`);
  await page.locator("main .view:not(.arriving)").first().waitFor();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
}

const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

await run("s3", { width: 1280, height: 800 }, async ({ page, api }) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });

  step("log in; while the keys load, the page shows a skeleton");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  await page.locator('nav a[href="#/s3"]').waitFor({ state: "attached" });
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/api/v1/s3/keys", async (route) => {
    await held;
    await route.continue();
  });
  await page.locator('nav a[href="#/s3"]').click();
  await page.locator("main > .skeleton[aria-busy=true]").waitFor();
  await audit(page, "s3-loading");
  release();
  await page.waitForFunction(() => !document.querySelector("main[aria-busy]"));
  await page.unroute("**/api/v1/s3/keys");
  await page.locator("main h1", { hasText: "S3 gateway" }).waitFor();

  step("empty: no keys, the listener off, no client settings yet");
  await page.locator("#s3-keys .empty", { hasText: "No access keys yet" }).waitFor();
  await page.locator("#s3-connect .empty").waitFor();
  await page.locator("#s3-switch-state", { hasText: "Off" }).waitFor();
  if (await page.isChecked("#s3-switch")) throw new Error("the switch shows on");
  await audit(page, "s3-empty");

  step("switch the listener on: its endpoint shows and answers HTTP");
  await page.locator("#s3-switch").check();
  await page.locator("#s3-switch-state", { hasText: "On" }).waitFor();
  const endpoint = (await page.locator("#s3-endpoint").textContent()).trim();
  if (!endpoint.startsWith("http://127.0.0.1:")) throw new Error(`endpoint ${endpoint}`);
  const status = await (await api("/system/status")).json();
  if (status.s3_enabled !== true) throw new Error(`status after switching on: ${JSON.stringify(status)}`);
  const answer = await fetch(endpoint);
  if (!(answer.status >= 100 && answer.status < 600)) throw new Error(`the endpoint answers ${answer.status}`);

  step("while Holdfast is locked, minting is refused beside the button");
  const locked = await api("/identity/lock", json({}));
  if (!locked.ok) throw new Error(`lock: ${locked.status}`);
  await page.locator('#s3-mint-form button[type="submit"]').click();
  await page.locator("#s3-mint-form .inline-error", { hasText: /locked/i }).waitFor();
  if (await page.locator("#s3-new-key").isVisible()) throw new Error("a key panel shows after a refused mint");
  await audit(page, "s3-locked");
  const unlocked = await api("/identity/unlock", json({ passphrase: process.env.HOLDFAST_PASSPHRASE }));
  if (!unlocked.ok) throw new Error(`unlock: ${unlocked.status}`);

  step("mint a key: the secret is shown once, copies, and fills the client settings");
  await page.fill("#s3-key-name", "laptop backups");
  await page.locator('#s3-mint-form button[type="submit"]').click();
  await page.locator("#s3-new-key .secret-warning", { hasText: "shown only once" }).waitFor();
  if (await page.locator("#s3-mint-form .inline-error").count()) throw new Error("the old error stays");
  const id = await page.inputValue("#s3-new-id");
  const secret = await page.inputValue("#s3-new-secret");
  if (!/^HF[A-Z2-7]{18}$/.test(id) || secret.length !== 40) throw new Error(`minted ${id} / ${secret.length}`);
  await page.locator('[data-copy="s3-new-secret"]').click();
  await page.waitForFunction(async (s) => (await navigator.clipboard.readText()) === s, secret);
  const listed = await (await api("/s3/keys")).text();
  if (listed.includes(secret) || !listed.includes(id)) throw new Error(`GET /s3/keys: ${listed}`);
  await page.locator(`.s3-key[data-key="${id}"] h3`, { hasText: "laptop backups" }).waitFor();
  await page.locator(`.s3-key[data-key="${id}"] .no-grants`).waitFor();
  const aws = await page.locator("#s3-aws").textContent();
  const rclone = await page.locator("#s3-rclone").textContent();
  for (const want of [`aws_access_key_id ${id}`, `aws_secret_access_key ${secret}`, `--endpoint-url ${endpoint} s3 ls`]) {
    if (!aws.includes(want)) throw new Error(`aws snippet lacks ${want}: ${aws}`);
  }
  for (const want of ["type = s3", "provider = Other", `endpoint = ${endpoint}`, `access_key_id = ${id}`,
    `secret_access_key = ${secret}`, "force_path_style = true"]) {
    if (!rclone.includes(want)) throw new Error(`rclone snippet lacks ${want}: ${rclone}`);
  }
  await page.locator('[data-copy="s3-rclone"]').click();
  await page.waitForFunction(async (s) => (await navigator.clipboard.readText()) === s, rclone);
  await audit(page, "s3-minted");

  step("after “I saved it” the secret is gone from the page");
  await page.locator('[data-action="hide-secret"]').click();
  await page.locator("#s3-new-key").waitFor({ state: "hidden" });
  if ((await page.content()).includes(`value="${secret}"`)) throw new Error("the secret stays in a field");

  step("permissions: add one on a vault, change it, refuse none, add all buckets, remove one");
  const key = page.locator(`.s3-key[data-key="${id}"]`);
  await key.locator("tfoot select").selectOption("photos");
  await key.locator('tfoot input[value="write"]').check();
  await key.locator('[data-action="add-grant"]').click();
  const photos = key.locator('tbody tr[data-bucket="photos"]');
  await photos.waitFor();
  await photos.locator("th", { hasText: "Photos (photos)" }).waitFor();
  const grantsOf = async () => (await (await api("/s3/permissions")).json()).filter((g) => g.key_id === id);
  let grants = await grantsOf();
  if (JSON.stringify(grants) !== JSON.stringify([{ key_id: id, bucket: "photos", ops: ["read", "write"] }])) {
    throw new Error(`after add: ${JSON.stringify(grants)}`);
  }
  // Each tick is saved at once; wait for the daemon to hold it.
  const opsAre = async (bucket, want) => {
    for (let i = 0; i < 200; i += 1) {
      const g = (await grantsOf()).find((x) => x.bucket === bucket);
      if (g && [...g.ops].sort().join() === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the ops on ${bucket} never became ${want}: ${JSON.stringify(await grantsOf())}`);
  };
  const box = (op) => key.locator(`tbody tr[data-bucket="photos"] input[value="${op}"]:enabled`);
  await box("delete").check();
  await opsAre("photos", "delete,read,write");
  await box("read").uncheck();
  await opsAre("photos", "delete,write");
  await box("write").uncheck();
  await opsAre("photos", "delete");
  await key.locator('tbody tr[data-bucket="photos"] input[value="read"]:not(:checked):enabled').waitFor();
  // Unticking the last one is refused (a click: the box stays ticked).
  await box("delete").click();
  await key.locator(".inline-error", { hasText: "at least one" }).waitFor();
  if (!(await key.locator('tbody tr[data-bucket="photos"] input[value="delete"]').isChecked())) {
    throw new Error("the last operation was unticked");
  }
  await key.locator("tfoot select").selectOption("*");
  await key.locator('[data-action="add-grant"]').click();
  await key.locator('tbody tr[data-bucket="*"] th', { hasText: "All buckets (*)" }).waitFor();
  await key.locator(".inline-error").waitFor({ state: "detached" });
  // Notices would cover the table in the screenshots.
  await page.evaluate(() => document.getElementById("alerts").replaceChildren());
  await audit(page, "s3-grants");
  await key.locator('tbody tr[data-bucket="photos"] [data-action="remove-grant"]').click();
  await key.locator('tbody tr[data-bucket="photos"]').waitFor({ state: "detached" });
  grants = await grantsOf();
  if (JSON.stringify(grants) !== JSON.stringify([{ key_id: id, bucket: "*", ops: ["read"] }])) {
    throw new Error(`after remove: ${JSON.stringify(grants)}`);
  }

  step("switch the listener off: the settings say so");
  await page.locator("#s3-switch").uncheck();
  await page.locator("#s3-switch-state", { hasText: "Off" }).waitFor();
  await page.locator("#s3-connect .callout", { hasText: "listener is off" }).waitFor();
  if ((await (await api("/system/status")).json()).s3_enabled !== false) throw new Error("still enabled");

  step("revoke the key, after a confirmation (cancel first)");
  await key.locator('[data-action="revoke"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await key.waitFor();
  await key.locator('[data-action="revoke"]').click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
  await key.waitFor({ state: "detached" });
  await page.locator("#s3-keys .empty", { hasText: "No access keys yet" }).waitFor();
  if ((await (await api("/s3/keys")).json()).length !== 0) throw new Error("the key is still listed");
  if ((await (await api("/s3/permissions")).json()).length !== 0) throw new Error("its permission stays");

  step("an error: the S3 settings cannot load, the page says so and offers a retry");
  await page.route("**/api/v1/s3/keys", (route) => route.fulfill({
    status: 500, contentType: "application/json", body: JSON.stringify({ error: "disk I/O error" }),
  }));
  await visit(page, "home");
  await visit(page, "s3");
  await page.locator(".s3-unavailable").getByRole("button", { name: "Try again" }).waitFor();
  await audit(page, "s3-error");
  await page.unroute("**/api/v1/s3/keys");
  await page.locator(".s3-unavailable button").click();
  await page.locator("#s3-listener").waitFor();
  await page.locator(".s3-unavailable").waitFor({ state: "detached" });

  step("the daemon stops: the shell's offline banner, no stale keys");
  process.kill(Number(process.env.HOLDFAST_PID), "SIGTERM");
  await page.locator("#offline").waitFor({ timeout: 20000 });
  await page.getByRole("heading", { name: "Holdfast is not answering" }).waitFor();
  if (await page.locator("#s3-keys").count()) throw new Error("the keys stay shown while offline");
  if (await page.locator("main button:enabled").count()) throw new Error("actions stay enabled with the daemon gone");
  await audit(page, "s3-offline");
});
