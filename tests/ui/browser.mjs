// What every browser script shares: Debian's Chromium through
// playwright-core, a page that fails on uncaught page errors, screenshots
// into $HOLDFAST_ARTIFACTS, the bearer the page holds (for checking results
// over the API), and the exit code. Environment: HOLDFAST_URL (base URL),
// HOLDFAST_TICKET (a bootstrap ticket), HOLDFAST_ARTIFACTS, CHROMIUM.
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const base = process.env.HOLDFAST_URL;
export const ticket = process.env.HOLDFAST_TICKET;

/** Run `steps({ page, shot, api })`; prints "ok" or the error, sets the exit code. */
export async function run(name, viewport, steps) {
  const artifacts = process.env.HOLDFAST_ARTIFACTS;
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Failed requests are logged too; the error paths under test cause them.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push(`console: ${m.text()}`);
    }
  });
  const shot = (n) => page.screenshot({ path: join(artifacts, `${n}.png`), fullPage: true });
  // A REST call with the bearer the page signed in with.
  const api = async (path, init = {}) => {
    const token = await page.evaluate(() => sessionStorage.getItem("holdfast.token"));
    if (!token) throw new Error("the page holds no bearer");
    return fetch(`${base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers || {}) },
    });
  };
  try {
    await steps({ page, shot, api });
    if (problems.length) throw new Error(problems.join("\n"));
    console.log("ok");
  } catch (e) {
    await shot(`${name}-failure`).catch(() => {});
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

export const step = (text) => console.log(`step: ${text}`);

/** The two widths every page is checked at. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Check the page as it stands, at both widths: nothing wider than the
 * viewport (no sideways scrolling, no element sticking out), axe-core with
 * no serious or critical violations, and a screenshot `<name>-1280.png` /
 * `<name>-390.png`. Restores the desktop width. Throws with the findings.
 */
export async function audit(page, name) {
  const artifacts = process.env.HOLDFAST_ARTIFACTS;
  const findings = [];
  for (const viewport of [PHONE, DESKTOP]) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(150);
    const wide = await page.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      const out = [];
      if (document.documentElement.scrollWidth > limit + 1) {
        out.push(`page scrolls sideways (${document.documentElement.scrollWidth} > ${limit})`);
      }
      for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        // Content inside a scrolling box (wide tables in .table-wrap) is fine.
        let clipped = false;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (/(auto|scroll|hidden|clip)/.test(s.overflowX)) { clipped = true; break; }
        }
        if (clipped || getComputedStyle(el).position === "fixed") continue;
        if (r.right > limit + 1 || r.left < -1) {
          const id = el.id ? `#${el.id}` : "";
          const cls = typeof el.className === "string" && el.className ? `.${el.className.split(" ").join(".")}` : "";
          out.push(`${el.tagName.toLowerCase()}${id}${cls} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${limit}`);
        }
      }
      return out.slice(0, 10);
    });
    for (const w of wide) findings.push(`${name} at ${viewport.width}px: ${w}`);
    if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
      // Evaluated over the DevTools protocol, which the page's CSP allows.
      await page.evaluate(axeSource);
    }
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    for (const v of result) findings.push(`${name} at ${viewport.width}px: axe ${v}`);
    await page.screenshot({ path: join(artifacts, `${name}-${viewport.width}.png`), fullPage: true });
  }
  if (findings.length) throw new Error(findings.join("\n"));
}

/** The QR code the browser drew (the first `selector` match), decoded. */
export async function readQr(page, selector = "svg.qr") {
  const img = await page.evaluate(async (sel) => {
    const svg = document.querySelector(sel);
    const cells = svg.viewBox.baseVal.width;
    const size = cells * 4;
    const xml = new XMLSerializer().serializeToString(svg);
    const url = URL.createObjectURL(new Blob([xml], { type: "image/svg+xml" }));
    const im = new Image();
    im.src = url;
    await im.decode();
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    const g = canvas.getContext("2d");
    g.imageSmoothingEnabled = false;
    g.drawImage(im, 0, 0, size, size);
    URL.revokeObjectURL(url);
    return { size, data: Array.from(g.getImageData(0, 0, size, size).data) };
  }, selector);
  const found = jsQR(Uint8ClampedArray.from(img.data), img.size, img.size);
  return found && found.data;
}
