#!/usr/bin/env node
// flamegraph_browser.js --page PAGE.html --expect JSON --screenshot OUT.png
//
// Opens a page of `bpfprof flamegraph` in headless Chromium (file://, as a
// user would) and drives it like a user: mouse, keyboard, DOM text. The only
// hook it reads is window.flamegraph: `ready` and `frames(name)`, the
// viewport rectangles of the visible frames named `name`.
//
// JSON (every key optional):
//   frames:     {name: share}  sum of the widths of name's frames / root width,
//                              a fraction, within 0.01
//   hover:      name           hover its (first) frame: #tooltip must show the
//                              name and its percentage, hover_pct or
//                              frames[hover] * 100, with 2 decimals
//   hover_pct:  number
//   search:     text           typed into #search, then Enter
//   search_pct: number         #match must say "Matched: P%" within 0.01 of it
//   zoom:       name           click it: it must then span the root's width;
//                              Escape and #reset must zoom out again
//   ready_ms:   number         flamegraph.ready within this many ms of loading
// Every request must be for the page itself (or data:/about:), no page error
// may occur, and a full-page screenshot is saved. Prints "PASS: ..." or
// "FAIL: why" and exits 0 or 1.
"use strict";
const path = require("path");
const { pathToFileURL } = require("url");
const puppeteer = require("puppeteer-core");

const TIMEOUT_MS = 60000;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function args() {
  const a = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!/^--(page|expect|screenshot)$/.test(argv[i]) || i + 1 >= argv.length)
      throw new Error(`usage: flamegraph_browser.js --page PAGE --expect JSON --screenshot OUT.png (at '${argv[i]}')`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  if (!a.page || !a.screenshot) throw new Error("--page and --screenshot are required");
  a.expect = JSON.parse(a.expect || "{}");
  return a;
}

class Failure extends Error {}
const check = (ok, why) => { if (!ok) throw new Failure(why); };

let browser = null;
async function run() {
  const opt = args();
  const expect = opt.expect;
  const url = pathToFileURL(path.resolve(opt.page)).href;
  const done = [];

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"],
    protocolTimeout: TIMEOUT_MS,
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(20000);
  const requests = [], errors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  const t0 = Date.now();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.flamegraph && window.flamegraph.ready === true,
    { timeout: expect.ready_ms ? Math.max(expect.ready_ms, 1000) : 20000 })
    .catch(() => { throw new Failure("window.flamegraph.ready is not true"); });
  const readyMs = Date.now() - t0;
  check(!expect.ready_ms || readyMs <= expect.ready_ms, `ready after ${readyMs} ms, want <= ${expect.ready_ms}`);
  done.push(`ready in ${readyMs} ms`);

  const frames = (name) => page.evaluate((n) => window.flamegraph.frames(n), name);
  // Two animation frames: whatever the last input scheduled has been drawn.
  const settle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const rootWidth = async () => {
    const r = await frames("all");
    check(r.length === 1, `${r.length} root frames ("all"), want 1`);
    return r[0].width;
  };
  const widthShare = async (name) => {
    const rw = await rootWidth();
    return (await frames(name)).reduce((s, f) => s + f.width, 0) / rw;
  };
  // The first frame named `name`, scrolled into the viewport.
  const frameOf = async (name) => {
    let r = await frames(name);
    check(r.length > 0, `no visible frame named '${name}'`);
    const vh = await page.evaluate(() => window.innerHeight);
    if (r[0].y < 0 || r[0].y + r[0].height > vh) {
      await page.evaluate((dy) => window.scrollBy(0, dy), r[0].y - vh / 2);
      r = await frames(name);
    }
    return r[0];
  };
  const centre = (f) => [f.x + f.width / 2, f.y + f.height / 2];

  // (a) widths
  for (const [name, want] of Object.entries(expect.frames || {})) {
    const got = await widthShare(name);
    check(Math.abs(got - want) <= 0.01, `frames '${name}' cover ${got.toFixed(4)} of the root width, want ${want}`);
  }
  if (expect.frames) done.push(`${Object.keys(expect.frames).length} frame widths`);

  // (b) tooltip
  if (expect.hover) {
    const f = await frameOf(expect.hover);
    await page.mouse.move(...centre(f));
    await settle();
    const tip = await page.$eval("#tooltip", (t) => ({ text: t.textContent, shown: !t.hidden && t.offsetWidth > 0 }));
    const want = `${Number(expect.hover_pct ?? expect.frames[expect.hover] * 100).toFixed(2)}%`;
    check(tip.shown, `#tooltip is not shown over '${expect.hover}'`);
    check(tip.text.includes(expect.hover) && tip.text.includes(want),
      `#tooltip over '${expect.hover}' says '${tip.text}', want the name and ${want}`);
    done.push(`tooltip '${tip.text}'`);
    await page.mouse.move(1, 1);
  }

  // (c) search
  if (expect.search !== undefined) {
    await page.click("#search");
    await page.keyboard.type(expect.search);
    await page.keyboard.press("Enter");
    await settle();
    const text = await page.$eval("#match", (m) => m.textContent);
    const m = /Matched: (\d+(?:\.\d+)?)%/.exec(text);
    check(m, `#match says '${text}', want "Matched: N%"`);
    if (expect.search_pct !== undefined)
      check(Math.abs(Number(m[1]) - expect.search_pct) <= 0.01 + 1e-9,
        `#match says '${text}' for '${expect.search}', want ${expect.search_pct.toFixed(2)}%`);
    // Frames named exactly the search text (and wide enough to sample) are
    // drawn in the highlight colour (magenta).
    const hits = (await frames(expect.search)).filter((f) => f.width >= 4);
    for (const f of hits) {
      const px = await page.evaluate((x, y) => {
        const c = document.querySelector("canvas"), r = c.getBoundingClientRect();
        const k = c.width / r.width;
        return Array.from(c.getContext("2d").getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data);
      }, f.x + 1.5, f.y + 1.5);
      check(px[0] > 180 && px[2] > 180 && px[1] < 120, `frame '${expect.search}' is rgb(${px.slice(0, 3)}), not highlighted`);
    }
    done.push(`${text}`);
  }

  // (d) zoom by a click, then out by Escape and by #reset
  if (expect.zoom) {
    const before = await widthShare(expect.zoom);
    const zoomIn = async () => {
      await page.mouse.click(...centre(await frameOf(expect.zoom)));
      await settle();
      // The widest: the clicked frame may have callees of the same name.
      const got = Math.max(...(await frames(expect.zoom)).map((f) => f.width)) / (await rootWidth());
      check(Math.abs(got - 1) <= 0.01, `after a click on '${expect.zoom}' it spans ${got.toFixed(4)} of the root width, want 1`);
    };
    const zoomedOut = async (how) => {
      await settle();
      const got = await widthShare(expect.zoom);
      check(Math.abs(got - before) <= 0.001, `after ${how} '${expect.zoom}' covers ${got.toFixed(4)}, want ${before.toFixed(4)}`);
    };
    await zoomIn();
    await page.screenshot({ path: opt.screenshot.replace(/(\.png)?$/, "-zoom.png"), fullPage: true });
    await page.keyboard.press("Escape");
    await zoomedOut("Escape");
    await zoomIn();
    await page.click("#reset");
    await zoomedOut("#reset");
    done.push(`zoom on '${expect.zoom}' and back`);
  }

  // The icicle toggle puts the root on top (and back).
  {
    const rootY = async () => (await frames("all"))[0].y;
    const flameY = await rootY();
    await page.click("#invert");
    await settle();
    const icicleY = await rootY();
    check(icicleY < flameY || (await frames("all"))[0].height * 2 > (await page.$eval("canvas", (c) => c.clientHeight)),
      `the icicle view does not move the root up (y ${flameY} -> ${icicleY})`);
    await page.click("#invert");
    await settle();
  }

  // (f) screenshot (the search highlight still on)
  await page.screenshot({ path: opt.screenshot, fullPage: true });

  // (e) no request but the page itself
  const strangers = requests.filter((u) => u.split("#")[0] !== url && !/^(data|about):/.test(u));
  check(strangers.length === 0, `the page requested ${strangers.join(", ")}`);
  check(errors.length === 0, `page errors: ${errors.join(" | ")}`);
  done.push(`${requests.length} request(s), all the page's own`);
  return done.join("; ");
}

const timer = setTimeout(() => {
  console.log(`FAIL: timed out after ${TIMEOUT_MS / 1000} s`);
  if (browser && browser.process()) browser.process().kill("SIGKILL");
  process.exit(1);
}, TIMEOUT_MS);

run().then(
  (what) => { console.log(`PASS: ${what}`); return 0; },
  (e) => { console.log(`FAIL: ${e instanceof Failure ? e.message : e.stack || e}`); return 1; },
).then(async (rc) => {
  clearTimeout(timer);
  if (browser) await browser.close().catch(() => {});
  process.exit(rc);
});
