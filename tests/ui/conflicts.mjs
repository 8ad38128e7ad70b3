// Conflicts a person can decide. Needs HOLDFAST_VAULT: a vault whose
// folder and the web both changed a.txt, b.txt, c.txt and d.png (four
// conflicts).
// Checks the counts on Home, the vault card and the folder panel; the two
// sides named for what they are, with a text diff; keeps this computer's
// side of a.txt and d.png (shown as thumbnails), the web's side of b.txt
// and both sides of c.txt; then the
// paused sync state with its Resume button.
import { base, ticket, run, step, audit } from "./browser.mjs";

const vault = process.env.HOLDFAST_VAULT;

await run("conflicts", { width: 1280, height: 800 }, async ({ page, shot, api }) => {
  const file = async (path) => (await api(`/vaults/${vault}/files${path}`)).json();
  const expect = (ok, what) => {
    if (!ok) throw new Error(what);
  };

  step("Home counts the conflicts and links to the vault");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/home`);
  const home = page.locator(".home-conflicts");
  await home.waitFor();
  expect(await home.getAttribute("data-count") === "4", `home says ${await home.getAttribute("data-count")}`);
  expect((await home.innerText()).includes("4 conflicts to decide"), await home.innerText());
  expect(await home.locator(`a[href="#/vaults/${vault}"]`).count() === 1, "no link to the vault");
  await shot("conflicts-home");

  step("the vault card says so too");
  await page.goto(`${base}/#/vaults`);
  const badge = page.locator(`li.vault[data-id="${vault}"] a.conflict-count`);
  await badge.waitFor();
  expect((await badge.innerText()).includes("4 conflicts"), await badge.innerText());
  await shot("conflicts-vaults");
  await badge.click();

  step("the vault shows four conflicts with both sides named");
  await page.waitForURL(`**/#/vaults/${vault}`);
  const rows = page.locator("tr.conflict-row");
  await rows.nth(3).waitFor();
  expect(await rows.count() === 4, `${await rows.count()} conflict rows`);
  const rowOf = (path) => page.locator(`tr.conflict-row[data-path="${path}"]`);
  const a = rowOf("/a.txt");
  await a.locator('li.head[data-side="folder"] h4').waitFor();
  expect((await a.locator('li.head[data-side="folder"] h4').innerText()) === "This computer's folder", "folder side name");
  expect((await a.locator('li.head[data-side="web"] h4').innerText()) === "The web / another device", "web side name");

  step("the text diff is visible");
  const del = a.locator(".diff .diff-line.del");
  const add = a.locator(".diff .diff-line.add");
  await del.first().waitFor();
  expect((await del.first().innerText()).includes("Line 5, as changed on this computer")
    || (await add.first().innerText()).includes("Line 5, as changed on this computer"), "the folder's line in the diff");
  expect((await a.locator(".diff").innerText()).includes("Line 21, as changed on the web"), "the web's line in the diff");
  expect(await a.locator(".diff .fold").count() > 0, "unchanged lines are folded");

  step("pictures are shown side by side");
  const d = rowOf("/d.png");
  await d.locator(".thumbs img").nth(1).waitFor();
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('tr.conflict-row[data-path="/d.png"] .thumbs img')];
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth === 48);
  });
  expect(await d.locator(".diff").count() === 0, "a diff of pictures");

  step("the folder panel counts them and is not 'Up to date'");
  const state = page.locator(".sync-state");
  await page.locator('.sync-state[data-state="conflict"]').waitFor();
  expect((await state.innerText()).includes("4 conflicts to decide"), await state.innerText());
  expect(await page.locator(".conflict-notice").count() === 1, "no conflict notice in the folder panel");
  await audit(page, "conflict");
  await page.setViewportSize({ width: 1280, height: 800 });

  step("keep this computer's side of a.txt");
  const mine = await a.locator('li.head[data-side="folder"]').getAttribute("data-hash");
  await a.locator('li.head[data-side="folder"] button[data-action="keep"]').click();
  await a.waitFor({ state: "detached" });
  let f = await file("/a.txt");
  expect(f.content_hash === mine && f.conflicts.length === 0, `a.txt: ${JSON.stringify(f)}`);

  step("keep this computer's side of d.png");
  const dMine = await d.locator('li.head[data-side="folder"]').getAttribute("data-hash");
  await d.locator('li.head[data-side="folder"] button[data-action="keep"]').click();
  await d.waitFor({ state: "detached" });
  f = await file("/d.png");
  expect(f.content_hash === dMine && f.conflicts.length === 0, `d.png: ${JSON.stringify(f)}`);

  step("keep the web's side of b.txt");
  const b = rowOf("/b.txt");
  const theirs = await b.locator('li.head[data-side="web"]').getAttribute("data-hash");
  await b.locator('li.head[data-side="web"] button[data-action="keep"]').click();
  await b.waitFor({ state: "detached" });
  f = await file("/b.txt");
  expect(f.content_hash === theirs && f.conflicts.length === 0, `b.txt: ${JSON.stringify(f)}`);

  step("keep both sides of c.txt");
  const c = rowOf("/c.txt");
  const cMine = await c.locator('li.head[data-side="folder"]').getAttribute("data-hash");
  const cTheirs = await c.locator('li.head[data-side="web"]').getAttribute("data-hash");
  const note = c.locator(".conflict-choices .muted");
  // A locator, not an element handle: events from the last step may still
  // re-render the list, and a handle would watch a node that is gone.
  await note.filter({ hasText: "(conflict from the web" }).waitFor();
  await c.locator('button[data-action="keep-both"]').click();
  await c.waitFor({ state: "detached" });
  f = await file("/c.txt");
  expect(f.content_hash === cMine && f.conflicts.length === 0, `c.txt: ${JSON.stringify(f)}`);
  const list = await (await api(`/vaults/${vault}/files`)).json();
  const copy = list.find((x) => x.path.startsWith("/c (conflict from the web "));
  expect(copy && copy.content_hash === cTheirs, `no copy: ${JSON.stringify(list.map((x) => x.path))}`);
  await page.locator(`tr.file[data-path="${copy.path}"]`).waitFor();

  step("no conflict left anywhere");
  await page.locator('.sync-state:not([data-state="conflict"])').waitFor();
  expect(await page.locator(".conflict-notice").count() === 0, "a conflict notice is left");
  await shot("conflicts-resolved");

  step("pause: the panel says it is paused, with a Resume button");
  await page.locator('button[data-action="toggle-sync"]').click();
  const paused = page.locator(".callout.sync-paused");
  await paused.waitFor();
  expect((await paused.innerText()).includes("Sync is paused"), await paused.innerText());
  await page.locator('.sync-state[data-state="paused"]').waitFor();
  // A change from the web waits for the folder, and the panel says so
  // (with what else waits: write-back may not have caught up on the
  // choices above before the pause).
  const before = (await (await api(`/vaults/${vault}/scan-status`)).json()).pending;
  const up = await api(`/vaults/${vault}/upload/e.txt`, { method: "POST", body: "written while paused" });
  expect(up.ok, `upload: ${up.status}`);
  const n = before + 1;
  const words = n === 1 ? "1 change from the vault waits" : `${n} changes from the vault wait`;
  await page.waitForFunction((w) => document.querySelector(".callout.sync-paused")?.textContent.includes(w), words);
  expect((await page.locator(".sync-state").innerText()).startsWith(`Paused: ${n} change`), await page.locator(".sync-state").innerText());
  await audit(page, "sync-paused");
  await page.setViewportSize({ width: 1280, height: 800 });
  await paused.locator('button[data-action="resume-sync"]').click();
  await paused.waitFor({ state: "detached" });
  const v = await (await api(`/vaults/${vault}`)).json();
  expect(v.sync_paused === false && v.conflict_count === 0, `vault: ${JSON.stringify(v)}`);

  step("Home has nothing waiting");
  await page.goto(`${base}/#/home`);
  await page.getByText("Nothing waiting for you.").waitFor();
});
