// The vault page's file handling in a real browser: search and sort,
// previews (image, text shown as text), a folder upload with its overall
// progress, multi-select delete then restore from Deleted files, rename,
// a new (client-side) folder, the quota check before sending, read-only,
// an empty vault and an unknown vault id; every state audited at both
// widths. Environment (besides browser.mjs's): HOLDFAST_VAULT (with the
// files ui_files.rs uploaded), HOLDFAST_EMPTY_VAULT.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base, ticket, run, step, audit } from "./browser.mjs";

const vault = process.env.HOLDFAST_VAULT;
const emptyVault = process.env.HOLDFAST_EMPTY_VAULT;

const until = async (what, check) => {
  for (let i = 0; i < 150; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
};

await run("files", { width: 1280, height: 800 }, async ({ page, api }) => {
  const rowPaths = () => page.locator("tr.file").evaluateAll((rows) => rows.map((r) => r.dataset.path));
  const listing = async (deleted) =>
    (await (await api(`/vaults/${vault}/files${deleted ? "?include_deleted=1" : ""}`)).json());

  step("the page lists the top folder");
  await page.goto(`${base}/?bootstrap=${encodeURIComponent(ticket)}#/vaults/${vault}`);
  await page.locator('tr.file[data-path="/b.txt"]').waitFor();
  if (!(await page.locator('tr.folder[data-path="/docs/"]').isVisible())) throw new Error("no docs/ folder row");
  if (await page.locator("#files-empty").isVisible()) throw new Error("empty text beside files");
  await page.locator("#storage-chart svg rect").first().waitFor();
  await audit(page, "vault");

  step("sort by size, both ways, with aria-sort");
  const th = page.locator("th.col-size");
  await th.locator("button.sort").click();
  if ((await th.getAttribute("aria-sort")) !== "descending") throw new Error("size sort is not descending");
  let order = await rowPaths();
  if (order.join() !== "/long name with spaces for wrapping checks.txt,/b.txt,/a.txt") throw new Error(`by size: ${order}`);
  await th.locator("button.sort").click();
  if ((await th.getAttribute("aria-sort")) !== "ascending") throw new Error("size sort is not ascending");
  order = await rowPaths();
  if (order.join() !== "/a.txt,/b.txt,/long name with spaces for wrapping checks.txt") throw new Error(`by size up: ${order}`);
  if ((await page.locator("th.col-name").getAttribute("aria-sort")) !== null) throw new Error("two sorted columns");
  await page.locator("th.col-name button.sort").click();
  order = await rowPaths();
  if (order[0] !== "/a.txt") throw new Error(`by name: ${order}`);

  step("search across folders as one types");
  await page.fill("#file-search", "NOTE");
  await until("search narrows", async () => (await rowPaths()).join() === "/docs/notes.md");
  if (!(await page.locator('tr.file[data-path="/docs/notes.md"] .in-folder').textContent()).includes("/docs/")) {
    throw new Error("a search hit does not say its folder");
  }
  await page.fill("#file-search", "zzz");
  await page.locator("#files-empty", { hasText: "zzz" }).waitFor();
  await page.fill("#file-search", "");
  await page.locator('tr.file[data-path="/b.txt"]').waitFor();

  step("preview a picture");
  await page.locator('tr.folder[data-path="/pics/"] button[data-action="open"]').click();
  await page.locator('tr.file[data-path="/pics/dot.png"] button[data-action="preview"]').click();
  const img = page.locator("#preview-dialog img.preview-image");
  await img.waitFor();
  await until("the picture decodes", () => img.evaluate((el) => el.complete && el.naturalWidth === 4));
  if (!(await img.getAttribute("src")).startsWith("blob:")) throw new Error("the picture is not a blob: URL");
  await audit(page, "vault-preview-image");
  await page.locator("#preview-dialog button[aria-label=Close]").click();
  await page.locator("#preview-dialog").waitFor({ state: "hidden" });

  step("preview a text file: text, never HTML");
  await page.locator(".crumbs button", { hasText: "Files" }).click();
  await page.locator('tr.file[data-path="/b.txt"] button[data-action="preview"]').click();
  const pre = page.locator("#preview-dialog pre.preview-text");
  await pre.waitFor();
  if ((await pre.textContent()) !== "<b>not bold</b> & more text") throw new Error(`text preview: ${await pre.textContent()}`);
  if (await pre.locator("b").count()) throw new Error("the text was parsed as HTML");
  await audit(page, "vault-preview-text");
  await page.keyboard.press("Escape");
  await page.locator("#preview-dialog").waitFor({ state: "hidden" });

  step("a PDF is offered as a download, with the reason");
  await page.fill("#file-search", "manual");
  await page.locator('tr.file[data-path="/docs/manual.pdf"] button[data-action="preview"]').click();
  await page.locator("#preview-dialog .callout", { hasText: "PDF" }).waitFor();
  if (await page.locator("#preview-dialog iframe, #preview-dialog object, #preview-dialog embed").count()) {
    throw new Error("a frame the CSP forbids");
  }
  await page.keyboard.press("Escape");
  await page.locator("#preview-dialog").waitFor({ state: "hidden" });
  await page.fill("#file-search", "");

  step("upload a whole folder, with overall progress");
  const dir = mkdtempSync(join(tmpdir(), "hf-upload-"));
  const tree = join(dir, "Trip");
  mkdirSync(join(tree, "day 1"), { recursive: true });
  writeFileSync(join(tree, "plan.txt"), "pack light");
  writeFileSync(join(tree, "day 1", "log.txt"), "walked");
  writeFileSync(join(tree, "day 1", "big.bin"), Buffer.alloc(3 << 20, 7));
  // Uploads slowed down, to see the overall bar while it moves.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024,
  });
  await page.locator("#upload-folder-input").setInputFiles(tree);
  await page.locator("#upload-status", { hasText: "Uploading" }).waitFor();
  await page.locator("#upload-overall progress").waitFor();
  await page.screenshot({ path: join(process.env.HOLDFAST_ARTIFACTS, "vault-uploading.png"), fullPage: true });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });
  await page.locator("#upload-status", { hasText: "Uploaded 3 of 3 files" }).waitFor();
  if ((await page.locator("#upload-failures li").count()) !== 0) throw new Error("a folder upload failed");
  const after = (await listing()).map((f) => f.path);
  for (const p of ["/Trip/plan.txt", "/Trip/day 1/log.txt", "/Trip/day 1/big.bin"]) {
    if (!after.includes(p)) throw new Error(`${p} missing after the folder upload: ${after}`);
  }
  await page.locator('tr.folder[data-path="/Trip/"]').waitFor();
  await audit(page, "vault-uploaded");

  step("download two selected files, one by one");
  await page.locator('tr.file[data-path="/a.txt"] input.select').check();
  await page.locator('tr.file[data-path="/b.txt"] input.select').check();
  const names = [];
  page.on("download", (d) => names.push(d.suggestedFilename()));
  await page.locator('#bulk-bar button[data-action="bulk-download"]').click();
  await until("two downloads", () => names.length === 2);
  if (names.sort().join() !== "a.txt,b.txt") throw new Error(`downloads: ${names}`);
  await page.locator("#bulk-bar button", { hasText: "Clear selection" }).click();
  await page.locator("#bulk-bar").waitFor({ state: "hidden" });

  step("select two files, delete them with one confirm");
  await page.locator('tr.file[data-path="/a.txt"] input.select').check();
  await page.locator('tr.file[data-path="/long name with spaces for wrapping checks.txt"] input.select').check();
  await page.locator("#bulk-bar", { hasText: "2 files selected" }).waitFor();
  await audit(page, "vault-selected");
  await page.locator('#bulk-bar button[data-action="bulk-delete"]').click();
  await page.locator("dialog.confirm button.danger").click();
  await page.locator('tr.file[data-path="/a.txt"]').waitFor({ state: "detached" });
  await page.locator('tr.file[data-path="/long name with spaces for wrapping checks.txt"]').waitFor({ state: "detached" });
  const gone = (await listing(true)).filter((f) => f.deleted).map((f) => f.path);
  if (!gone.includes("/a.txt")) throw new Error(`not deleted: ${gone}`);

  step("restore one from Deleted files");
  await page.locator("#show-deleted").click();
  const deletedRow = page.locator('#deleted-view li.deleted-file[data-path="/a.txt"]');
  await deletedRow.waitFor();
  await audit(page, "vault-deleted");
  await deletedRow.locator('button[data-action="restore"]').click();
  await deletedRow.waitFor({ state: "detached" });
  await until("a.txt is back", async () => (await listing()).some((f) => f.path === "/a.txt"));
  await page.locator("#show-files").click();
  await page.locator('tr.file[data-path="/a.txt"]').waitFor();

  step("rename a file");
  await page.locator('tr.file[data-path="/a.txt"] button[data-action="rename"]').click();
  const offered = await page.locator("#rename-dialog-suggestions option").evaluateAll((o) => o.map((x) => x.value));
  if (!offered.includes("/docs/a.txt") || !offered.includes("/Trip/day 1/a.txt")) throw new Error(`move suggestions: ${offered}`);
  await page.fill("#rename-dialog-input", "b.txt");
  await page.locator('#rename-dialog button[type="submit"]').click();
  await page.locator("#rename-dialog .inline-error", { hasText: "already there" }).waitFor();
  await page.fill("#rename-dialog-input", "renamed a.txt");
  await page.locator('#rename-dialog button[type="submit"]').click();
  await page.locator('tr.file[data-path="/renamed a.txt"]').waitFor();
  await page.locator('tr.file[data-path="/a.txt"]').waitFor({ state: "detached" });
  const renamed = await (await api(`/vaults/${vault}/download/renamed%20a.txt`)).text();
  if (renamed !== "a") throw new Error(`renamed content: ${renamed}`);

  step("a single delete has Undo");
  await page.locator('tr.file[data-path="/renamed a.txt"] button[data-action="delete"]').click();
  await page.locator('tr.file[data-path="/renamed a.txt"]').waitFor({ state: "detached" });
  await page.locator(".alert.notice", { hasText: "Deleted renamed a.txt" }).locator("button", { hasText: "Undo" }).click();
  await page.locator('tr.file[data-path="/renamed a.txt"]').waitFor();

  step("a new folder is a place to go until a file lands in it");
  await page.locator("#new-folder").click();
  await page.fill("#folder-name-dialog-input", "Later");
  await page.locator('#folder-name-dialog button[type="submit"]').click();
  await page.locator(".crumbs [aria-current]", { hasText: "Later" }).waitFor();
  await page.locator("#files-empty", { hasText: "until a file lands in it" }).waitFor();
  await audit(page, "vault-new-folder");
  await page.locator("#upload-input").setInputFiles({ name: "first.txt", mimeType: "text/plain", buffer: Buffer.from("first") });
  await page.locator('tr.file[data-path="/Later/first.txt"]').waitFor();

  step("files dropped on the drop zone upload into the folder shown");
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped"], "dropped.txt", { type: "text/plain" }));
    return dt;
  });
  await page.dispatchEvent("#drop-zone", "drop", { dataTransfer: dropped });
  await page.locator('tr.file[data-path="/Later/dropped.txt"]').waitFor();

  step("a dropped folder (webkitGetAsEntry) keeps its relative paths");
  // Headless Chromium cannot drag a real folder: the drop carries entries
  // shaped like the browser's (readEntries answering in batches).
  await page.evaluate(() => {
    const file = (fullPath, text) => ({
      isFile: true, isDirectory: false, fullPath,
      file: (ok) => ok(new File([text], fullPath.split("/").pop())),
    });
    const dir = (fullPath, children) => ({
      isFile: false, isDirectory: true, fullPath,
      createReader: () => {
        const batches = [children.slice(0, 1), children.slice(1), []];
        return { readEntries: (ok) => ok(batches.shift() || []) };
      },
    });
    const root = dir("/Scans", [file("/Scans/one.txt", "1"), dir("/Scans/old", [file("/Scans/old/two.txt", "22")])]);
    const ev = new Event("drop", { bubbles: true, cancelable: true });
    Object.defineProperty(ev, "dataTransfer", { value: { items: [{ webkitGetAsEntry: () => root }], files: [] } });
    document.querySelector("#drop-zone").dispatchEvent(ev);
  });
  await page.locator('tr.folder[data-path="/Later/Scans/"]').waitFor();
  await until("the dropped folder landed", async () => {
    const paths = (await listing()).map((f) => f.path);
    return paths.includes("/Later/Scans/one.txt") && paths.includes("/Later/Scans/old/two.txt");
  });

  step("a batch over the quota is refused before sending");
  const v = await (await api(`/vaults/${vault}`)).json();
  await api(`/vaults/${vault}`, {
    method: "PATCH", headers: { "content-type": "application/json" },
    body: JSON.stringify({ hard_quota: v.byte_count + 100 }),
  });
  await page.locator("#drop-zone").waitFor();
  await until("the page knows the quota", () => page.locator(".usage meter").count().then((n) => n > 0));
  await page.locator("#upload-input").setInputFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(4096, 1) });
  await page.locator("#drop-zone + .inline-error", { hasText: "Nothing was uploaded" }).waitFor();
  if ((await listing()).some((f) => f.path.endsWith("huge.bin"))) throw new Error("the refused file was sent");
  await audit(page, "vault-quota");

  step("an empty vault");
  await page.goto(`${base}/#/vaults/${emptyVault}`);
  await page.locator("#files-empty", { hasText: "No files yet. Upload some above." }).waitFor();
  await page.locator("#drop-zone").waitFor();
  await audit(page, "vault-empty");

  step("read-only hides changes");
  await api(`/vaults/${vault}`, {
    method: "PATCH", headers: { "content-type": "application/json" },
    body: JSON.stringify({ read_only: true, hard_quota: null }),
  });
  await page.goto(`${base}/#/vaults/${vault}`);
  await page.locator('tr.file[data-path="/b.txt"]').waitFor();
  if (await page.locator("#drop-zone").isVisible()) throw new Error("upload offered in a read-only vault");
  if (await page.locator('tr.file button[data-action="delete"], tr.file button[data-action="rename"], #bulk-bar button[data-action="bulk-delete"]:visible').count()) {
    throw new Error("delete or rename offered in a read-only vault");
  }
  if (!(await page.locator('tr.file[data-path="/b.txt"] button[data-action="download"]').isVisible())) {
    throw new Error("download hidden in a read-only vault");
  }

  step("locked: no upload, no download, no preview");
  await api("/identity/lock", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  await page.locator(".callout", { hasText: "Holdfast is locked" }).waitFor();
  await page.locator('tr.file[data-path="/b.txt"]').waitFor();
  if (await page.locator('tr.file button[data-action="download"], tr.file button[data-action="preview"]').count()) {
    throw new Error("download or preview offered while locked");
  }
  if (await page.locator("#drop-zone").isVisible()) throw new Error("upload offered while locked");
  await audit(page, "vault-locked");

  step("an unknown vault id");
  await page.goto(`${base}/#/vaults/nope`);
  await page.locator("#vault-not-found a[href='#/vaults']").waitFor();
  if (await page.locator(".alerts .alert, [role=alert]").filter({ hasText: "no such vault" }).count()) {
    throw new Error("a toast instead of a page");
  }
  await audit(page, "vault-missing");
});
