// tests.mjs: the browser tests run by run.mjs. Each has a name, the viewer (or viewers) whose known
// console noise it may ignore (harness.mjs KNOWN_NOISE), a timeout in seconds, and run(env), which
// throws to fail; the harness also fails it on any failed request, error response, console
// error or page error while it ran.

import fs from "node:fs";
import path from "node:path";

import { WEB_DIR } from "./harness.mjs";
import { MAPS_TESTS } from "./tests_maps.mjs";
import { CONTENT_STATE_TESTS } from "./tests_content_state.mjs";
import { AUTH_TESTS } from "./tests_auth.mjs";

const manifestPath = (name) => `/iiif/presentation/${name}/manifest`;
const viewerURL = (env, viewer, name, extra = "") =>
  `${env.server.base}/viewer/${viewer}?manifest=${encodeURIComponent(manifestPath(name))}${extra}`;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Waits (up to ms) until the iiifd annotation imports for the fixtures are visible. */
async function ready(env, ms = 30000) {
  const m = env.server.base + manifestPath(env.fx.book);
  // the first request for a folder's Manifest starts the import of its annotation files
  for (const name of [env.fx.book, env.fx.dense, env.fx.video])
    await env.getJSON(env.server.base + manifestPath(name));
  const ok = await env.until(async () => {
    const s = await env.getJSON(`${m}/search?q=${env.fx.search_word}`);
    return (s.items || []).length > 0;
  }, ms);
  assert(ok, `the book's OCR was not searchable within ${ms / 1000} s (auto-import)`);
}

/** Every annotation of a Canvas's AnnotationPage, following `next` when it is split. */
async function allAnnotations(env, url) {
  const items = [];
  for (let next = url, n = 0; next && n < 100; n++) {
    const page = await env.getJSON(next);
    items.push(...(page.items || []));
    next = page.next && (page.next.id || page.next);
  }
  return items;
}

const bodyText = (a) => [].concat(a.body || []).map((b) => b.value || "").join(" ").trim();

/** The cues of the page's video's first text track, once the browser has loaded them. */
const trackCues = (env, page) =>
  env.until(() => page.evaluate(() => {
    const v = document.querySelector("video");
    const t = v && v.textTracks[0];
    if (!t) return null;
    t.mode = "showing";
    return t.cues && t.cues.length ? Array.from(t.cues, (c) => c.text) : null;
  }), 15000);

/**
 * Image API requests (3.0, or 2.1 for UV, which prefers the ImageService2 each image also
 * declares) the page made, and the ones among them that are tiles (a region).
 */
function imageRequests(browser) {
  const all = browser.requests().filter((r) => /\/iiif\/[23]\/[^/]+\/[^/]+\/[^/]+\/\d+\/\w+\.\w+$/.test(r.url()));
  const tiles = all.filter((r) => /\/iiif\/[23]\/[^/]+\/\d+,\d+,\d+,\d+\//.test(r.url()));
  return { all, tiles };
}

/** Waits until n tile requests have been answered with 200 and none is still pending. */
async function tilesLoaded(env, browser, n, ms) {
  return env.until(async () => {
    const { tiles } = imageRequests(browser);
    const answered = await Promise.all(tiles.map(async (r) => (await r.response())?.status()));
    return tiles.length >= n && answered.every((s) => s === 200);
  }, ms, 500);
}

/** Mirador's Redux state for the one window iiifd's boot script opens ("iiifd"). */
const miradorWindow = (page) =>
  page.evaluate(() => {
    const s = window.iiifdMirador.store.getState();
    return { canvasId: s.windows.iiifd && s.windows.iiifd.canvasId };
  });

/**
 * The annotation ids Mirador lists in its annotations panel. The list is walked from top to
 * bottom by scrolling its container, so a virtualised list (only the visible rows in the DOM)
 * is counted whole too; Mirador 4.0.0's is not virtualised, and then one look sees them all.
 */
async function miradorListedAnnotations(page) {
  const seen = new Map();
  for (let step = 0; step < 2000; step++) {
    const rows = await page.$$eval("li[annotationid]",
      (ls) => ls.map((l) => [l.getAttribute("annotationid"), l.textContent.trim()]));
    for (const [id, text] of rows) seen.set(id, text);
    const more = await page.evaluate(() => {
      const li = document.querySelector("li[annotationid]");
      let box = li && li.parentElement;
      while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
      if (!box || box === document.documentElement || box === document.body) return false;
      if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1) return false;
      box.scrollTop += box.clientHeight * 0.9;
      return true;
    });
    if (!more) break;
    await new Promise((r) => setTimeout(r, 30));
  }
  return seen;
}

export const TESTS = [
  {
    name: "mirador-book-thumbnails-tiles-search",
    viewer: "mirador",
    timeout: 75,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      const manifest = await env.getJSON(env.server.base + manifestPath(fx.book));
      await page.goto(viewerURL(env, "mirador", fx.book));
      // thumbnails: one per page, each an image that loaded
      await page.waitForSelector(".mirador-thumb-navigation img", { timeout: 20000 });
      const thumbs = await env.until(async () => {
        const n = await page.$$eval(".mirador-thumb-navigation img",
          (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
        return n >= fx.pages ? n : 0;
      }, 15000);
      assert(thumbs === fx.pages, `expected ${fx.pages} loaded thumbnails, saw ${thumbs}`);
      // deep zoom: OpenSeadragon asks for tiles (regions); all of them must come back 200
      assert(await tilesLoaded(env, browser, 2, 20000), "the first page's tiles did not all load");
      await env.screenshot(page, this.name, "opened");
      // zoom in: more tiles, from a deeper level
      const before = imageRequests(browser).tiles.length;
      await page.getByRole("button", { name: "Zoom in" }).click();
      await page.getByRole("button", { name: "Zoom in" }).click();
      assert(await tilesLoaded(env, browser, before + 1, 20000), "no deeper tiles loaded after zooming in");
      await env.screenshot(page, this.name, "zoomed");
      // search for the word printed on page 2 only
      await page.getByRole("tab", { name: "Search" }).click();
      const box = page.getByLabel("search terms"); // Mirador's search field (an MUI Autocomplete)
      await box.waitFor({ timeout: 10000 });
      await box.fill(fx.search_word);
      await box.press("Enter");
      const hit = page.locator("li", { hasText: fx.search_word }).first();
      await hit.waitFor({ timeout: 15000 });
      await hit.click();
      const page2 = manifest.items[fx.search_page - 1].id;
      const moved = await env.until(async () => (await miradorWindow(page)).canvasId === page2, 10000);
      assert(moved, `after the search the viewer shows ${(await miradorWindow(page)).canvasId}, not page ${fx.search_page} (${page2})`);
      const tilesOf2 = await env.until(() =>
        imageRequests(browser).tiles.some((r) => r.url().includes(`page${fx.search_page}`)), 15000);
      assert(tilesOf2, `no tiles of page ${fx.search_page} were asked for`);
      assert(await tilesLoaded(env, browser, 1, 20000), "page 2's tiles did not all load");
      // Mirador keeps the zoom of page 1 on page 2: show the whole page, with the hit marked
      await page.getByRole("button", { name: "Reset zoom" }).click();
      assert(await tilesLoaded(env, browser, 1, 20000), "page 2's tiles did not all load");
      await env.sleep(1500); // for the screenshot only: OpenSeadragon's zoom animation
      await env.screenshot(page, this.name, "search-hit-page2");
    },
  },
  {
    name: "mirador-dense-page-lists-all-lines",
    viewer: "mirador",
    timeout: 90,
    async run(env) {
      const { page, fx } = env;
      await ready(env);
      // what iiifd serves for that Canvas once its ALTO file is imported (the Canvas lists its
      // annotation page from then on): the lines and their words
      const served = await env.until(async () => {
        const manifest = await env.getJSON(env.server.base + manifestPath(fx.dense));
        const pages = manifest.items[0].annotations || [];
        if (!pages.length) return null;
        const items = await allAnnotations(env, pages[0].id);
        return items.length >= fx.dense_lines ? items : null;
      }, 30000, 1000);
      assert(served, `the dense page's ${fx.dense_lines} lines were not imported in 30 s`);
      const lineTexts = new Set(served.map(bodyText).filter((t) => /^line\d{4}$/.test(t)));
      assert(lineTexts.size === fx.dense_lines, `iiifd serves ${lineTexts.size} distinct lines, not ${fx.dense_lines}`);
      await page.goto(viewerURL(env, "mirador", fx.dense));
      await page.waitForSelector("li[annotationid]", { timeout: 45000 });
      const expected = served.length;
      const listed = await env.until(async () => {
        const seen = await miradorListedAnnotations(page);
        return seen.size >= expected ? seen : null;
      }, 30000, 1000) || (await miradorListedAnnotations(page));
      await env.screenshot(page, this.name, "listed");
      assert(listed.size === expected, `Mirador lists ${listed.size} annotations, iiifd serves ${expected}`);
      const servedIds = new Set(served.map((a) => a.id));
      const missing = [...servedIds].filter((id) => !listed.has(id));
      assert(missing.length === 0, `${missing.length} served annotations are not listed, e.g. ${missing[0]}`);
      const listedLines = new Set([...listed.values()].filter((t) => /^line\d{4}$/.test(t)));
      assert(listedLines.size === fx.dense_lines, `the list shows ${listedLines.size} distinct lines of ${fx.dense_lines}`);
    },
  },
  {
    name: "mirador-video-plays-captions-once",
    viewer: "mirador",
    timeout: 60,
    async run(env) {
      const { page, fx } = env;
      await ready(env);
      await page.goto(viewerURL(env, "mirador", fx.video));
      const video = page.locator("video").first();
      await video.waitFor({ timeout: 20000 });
      // the caption file is one <track>, listed once; its cues are those of the .vtt file
      const tracks = await page.$$eval("video track", (ts) => ts.map((t) => t.getAttribute("src")));
      assert(tracks.length === 1, `expected one caption track, found ${tracks.length}: ${tracks.join(", ")}`);
      const cues = await trackCues(env, page);
      assert(cues && cues.length === fx.cues.length && fx.cues.every((c, i) => cues[i] === c),
        `the captions shown are ${JSON.stringify(cues)}, not ${JSON.stringify(fx.cues)}`);
      // the annotation panel lists the caption file once too
      const listed = await env.until(async () => {
        const n = await page.$$eval("li[annotationid]", (ls) => ls.length);
        return n > 0 ? n : 0;
      }, 10000);
      assert(listed === 1, `the annotations panel lists ${listed} caption entries, not 1`);
      // it plays (muted: no audio device in a headless browser)
      await page.evaluate(() => { const v = document.querySelector("video"); v.muted = true; return v.play(); });
      const played = await env.until(() => page.evaluate(() => document.querySelector("video").currentTime > 1.5), 15000);
      assert(played, "the video did not play past 1.5 s");
      await env.screenshot(page, this.name, "playing");
    },
  },
  {
    name: "clover-video-has-one-caption-track",
    viewer: "clover",
    timeout: 60,
    async run(env) {
      const { page, fx } = env;
      await ready(env);
      // #12: Clover made a <track> of every cue when the cues were listed a second time
      await page.goto(viewerURL(env, "clover", fx.video));
      const video = page.locator("video").first();
      await video.waitFor({ timeout: 20000 });
      const tracks = await env.until(async () => {
        const ts = await page.$$eval("video track", (all) => all.map((t) => t.getAttribute("src") || ""));
        return ts.length ? ts : null;
      }, 15000);
      assert(tracks && tracks.length === 1, `expected one caption track, found ${tracks ? tracks.length : 0}: ${tracks}`);
      assert(tracks[0].endsWith(".vtt"), `the track is ${tracks[0]}, not the caption file`);
      const cues = await trackCues(env, page);
      assert(cues && cues.length === fx.cues.length, `Clover's track has cues ${JSON.stringify(cues)}`);
      await env.screenshot(page, this.name, "opened");
    },
  },
  {
    name: "tify-book-shows-each-line-once",
    viewer: "tify",
    timeout: 60,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      // #12: TIFY showed each OCR line twice (then its words) when lines and words shared a page
      await page.goto(viewerURL(env, "tify", fx.book));
      const lines = ["The first page", "of a small book", "printed for tests"];
      const text = await env.until(async () => {
        const t = await page.evaluate(() => document.querySelector("#viewer").innerText);
        return lines.every((l) => t.includes(l)) ? t : null;
      }, 30000);
      assert(text, "TIFY's full-text panel does not show page 1's OCR lines");
      for (const l of lines) {
        const n = text.split(l).length - 1;
        assert(n === 1, `"${l}" is shown ${n} times`);
      }
      for (const w of ["first", "small", "printed"])
        assert(text.split(w).length - 1 === 1, `the word "${w}" is shown again on its own`);
      assert(await tilesLoaded(env, browser, 1, 20000), "TIFY's tiles did not load");
      await env.screenshot(page, this.name, "text");
    },
  },
  {
    name: "uv-book-opens-and-searches",
    viewer: "uv",
    timeout: 60,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      await page.goto(viewerURL(env, "uv", fx.book));
      // the contents panel's thumbnails, one per page, loaded
      const thumbs = await env.until(async () => {
        const n = await page.$$eval(".thumbs img, .thumb img",
          (imgs) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length);
        return n >= fx.pages ? n : 0;
      }, 30000);
      assert(thumbs === fx.pages, `expected ${fx.pages} loaded thumbnails in UV, saw ${thumbs}`);
      assert(await tilesLoaded(env, browser, 1, 30000), "UV's deep-zoom tiles did not load");
      await env.screenshot(page, this.name, "opened");
      // the footer's search (UV uses iiifd's Search 1.0 service): one hit, on page 2, and
      // "Next Result" goes there
      const box = page.locator("input.searchText").nth(1); // [0] is the page-number field
      await box.fill(fx.search_word);
      await box.press("Enter");
      await page.getByText(`1 result found for '${fx.search_word}'`).waitFor({ timeout: 15000 })
        .catch(async () => {
          throw new Error(`UV did not report one hit: ${(await page.locator(".search").first().innerText()).slice(0, 200)}`);
        });
      await page.getByText("Next Result").first().click();
      const moved = await env.until(() =>
        imageRequests(browser).tiles.some((r) => r.url().includes(`page${fx.search_page}`)), 15000);
      assert(moved, `UV did not go to page ${fx.search_page} (no tiles of it were asked for)`);
      assert(await tilesLoaded(env, browser, 1, 20000), "page 2's tiles did not all load in UV");
      await env.screenshot(page, this.name, "search-hit-page2");
    },
  },
  {
    name: "clover-book-opens",
    viewer: "clover",
    timeout: 60,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      await page.goto(viewerURL(env, "clover", fx.book));
      await page.getByText(fx.book, { exact: true }).first().waitFor({ timeout: 20000 });
      const thumbs = await env.until(async () => {
        const n = await page.$$eval("img", (imgs) => imgs.filter((i) => i.complete &&
          i.naturalWidth > 0 && /\/iiif\/3\/book%2Fpage\d/.test(i.currentSrc)).length);
        return n >= fx.pages ? n : 0;
      }, 30000);
      assert(thumbs >= fx.pages, `expected at least ${fx.pages} page images in Clover, saw ${thumbs}`);
      assert(await tilesLoaded(env, browser, 1, 30000), "Clover's deep-zoom tiles did not load");
      await env.screenshot(page, this.name, "opened");
    },
  },
  {
    name: "mirador-opens-at-canvas-region",
    viewer: "mirador",
    timeout: 45,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      const manifest = await env.getJSON(env.server.base + manifestPath(fx.book));
      const page3 = manifest.items[2].id;
      const region = [150, 180, 700, 120]; // x, y, w, h: the first line of page 3
      await page.goto(viewerURL(env, "mirador", fx.book,
        `&canvas=${encodeURIComponent(page3)}&xywh=${region.join(",")}`));
      await page.waitForSelector(".mirador-thumb-navigation img", { timeout: 20000 });
      const shown = await env.until(async () => (await miradorWindow(page)).canvasId === page3, 10000);
      assert(shown, `Mirador shows ${(await miradorWindow(page)).canvasId}, not page 3 (${page3})`);
      // ?xywh=: OpenSeadragon's view is centred on the region, zoomed to about its width
      const view = await env.until(() => page.evaluate(() => {
        const v = window.iiifdMirador.store.getState().viewers.iiifd;
        return v && v.zoom ? v : null;
      }), 10000);
      assert(view, "Mirador has no view of the Canvas");
      const cx = region[0] + region[2] / 2, cy = region[1] + region[3] / 2;
      assert(Math.abs(view.x - cx) < 5 && Math.abs(view.y - cy) < 5,
        `the view is centred on ${view.x},${view.y}, not on the region's centre ${cx},${cy}`);
      const visibleWidth = 1 / view.zoom; // OpenSeadragon: zoom = 1 / visible width
      assert(visibleWidth >= region[2] - 1 && visibleWidth < region[2] * 2,
        `the view is ${Math.round(visibleWidth)} px wide, not about the region's ${region[2]}`);
      assert(await tilesLoaded(env, browser, 1, 20000), "tiles did not load");
      const { tiles } = imageRequests(browser);
      assert(tiles.every((r) => r.url().includes("page3")), "tiles of another page than page 3 were asked for");
      // page 3's OCR lines are listed
      await page.locator("li[annotationid]", { hasText: "The third page" }).first().waitFor({ timeout: 15000 });
      await env.screenshot(page, this.name, "opened");
    },
  },
  {
    name: "clover-opens-at-canvas-with-search",
    viewer: "clover",
    timeout: 45,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      const manifest = await env.getJSON(env.server.base + manifestPath(fx.book));
      const page3 = manifest.items[2].id;
      await page.goto(viewerURL(env, "clover", fx.book,
        `&canvas=${encodeURIComponent(page3)}&q=${encodeURIComponent(fx.search_word)}`));
      // the Content State took Clover to page 3: its tiles, and its OCR lines in the panel
      assert(await env.until(() => imageRequests(browser).tiles.some((r) => r.url().includes("page3")), 20000),
        "no tiles of page 3 were asked for");
      assert(await tilesLoaded(env, browser, 1, 20000), "tiles did not load");
      const others = imageRequests(browser).tiles.filter((r) => !r.url().includes("page3"));
      assert(others.length === 0, `tiles of other pages were asked for: ${others[0] && others[0].url()}`);
      await page.getByText("The third page", { exact: true }).first().waitFor({ timeout: 15000 });
      // and ?q= ran the search on iiifd's service
      const search = await env.until(async () => {
        const r = browser.requests().find((q) => q.url().includes(`/search?q=${fx.search_word}`));
        return r && (await r.response()) ? r : null;
      }, 15000);
      assert(search && (await search.response()).status() === 200, "Clover did not run the search from ?q=");
      await env.screenshot(page, this.name, "opened");
    },
  },
  {
    name: "home-and-manifest-page-embed-viewers",
    viewer: ["mirador", "uv", "clover"],
    timeout: 60,
    async run(env) {
      const { page, browser, fx } = env;
      await ready(env);
      // the home page lists the library's Manifests
      await page.goto(env.server.base + "/");
      for (const name of [fx.book, fx.dense, fx.video])
        await page.locator("a", { hasText: name }).getByText(name, { exact: true }).first().waitFor({ timeout: 15000 });
      await env.screenshot(page, this.name, "home");
      // the book's page embeds Mirador (its own page under /viewer/, in an iframe)
      await page.goto(`${env.server.base}/view/${fx.book}/manifest`);
      const frame = page.frameLocator("iframe.viewer");
      await frame.locator(".mirador-thumb-navigation img").first().waitFor({ timeout: 20000 });
      assert(await tilesLoaded(env, browser, 1, 20000), "the embedded Mirador's tiles did not load");
      await env.screenshot(page, this.name, "manifest-page-mirador");
      await page.waitForLoadState("networkidle"); // leaving earlier would cancel its requests
      // and UV and Clover through ?viewer=
      for (const viewer of ["uv", "clover"]) {
        await page.goto(`${env.server.base}/view/${fx.book}/manifest?viewer=${viewer}`);
        const src = await page.locator("iframe.viewer").getAttribute("src");
        assert(src && src.includes(`/viewer/${viewer}?manifest=`), `the ${viewer} page embeds ${src}`);
        const inner = page.frameLocator("iframe.viewer");
        const thumb = viewer === "uv" ? ".thumbs img" : "img[src*='/iiif/3/book%2Fpage1']";
        await inner.locator(thumb).first().waitFor({ timeout: 20000 });
        await env.screenshot(page, this.name, `manifest-page-${viewer}`);
        await page.waitForLoadState("networkidle");
      }
    },
  },
  {
    name: "hostile-sidecar-runs-no-script",
    viewer: "mirador", // the page embeds it
    timeout: 45,
    async run(env) {
      const { page, fx } = env;
      let dialogs = 0;
      page.on("dialog", (d) => { dialogs++; d.dismiss(); });
      // the Manifest page shows the hostile summary, metadata and requiredStatement; any script,
      // event attribute or javascript: link that got through would set the title to PWNED
      // (and a script the CSP blocked would log a console error, which fails the test too)
      await page.goto(`${env.server.base}/view/${fx.hostile}/manifest`);
      await page.getByText("Safe", { exact: false }).first().waitFor({ timeout: 15000 });
      await page.waitForLoadState("networkidle");
      const found = await page.evaluate(() => {
        const all = [...document.querySelectorAll("*")];
        return {
          title: document.title,
          handlers: all.filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
          jsLinks: all.filter((e) => /^\s*javascript:/i.test(e.getAttribute("href") || e.getAttribute("src") || "")).length,
          inlineScripts: [...document.scripts].filter((s) => !s.src).length,
          frames: document.querySelectorAll("svg, style, iframe:not(.viewer)").length,
          bold: document.querySelectorAll("b").length,
        };
      });
      // hovering and clicking what is left runs nothing either
      for (const text of ["click", "hover", "x"]) {
        const el = page.getByText(text, { exact: true }).first();
        if (await el.count()) {
          await el.hover();
          await el.click({ noWaitAfter: true }).catch(() => {});
        }
      }
      await page.waitForTimeout(300);
      const title = await page.title();
      await env.screenshot(page, this.name, "page");
      assert(!found.title.includes("PWNED") && !title.includes("PWNED"), `a payload ran: title ${title}`);
      assert(dialogs === 0, `${dialogs} dialogs opened`);
      assert(found.handlers === 0, `${found.handlers} elements with on* attributes`);
      assert(found.jsLinks === 0, `${found.jsLinks} javascript: links`);
      assert(found.inlineScripts === 0, `${found.inlineScripts} inline scripts`);
      assert(found.frames === 0, `${found.frames} svg/style/iframe elements from the sidecar`);
      assert(found.bold >= 1, "the allowed markup (<b>) was lost");
    },
  },
  {
    name: "our-pages-pass-axe-core",
    viewer: "mirador", // Manifest pages embed it
    timeout: 60,
    async run(env) {
      const { page, fx } = env;
      await ready(env);
      const axe = fs.readFileSync(path.join(WEB_DIR, "node_modules/axe-core/axe.min.js"), "utf8");
      const pages = ["/", `/view/${fx.book}/manifest`, `/view/${fx.book}/manifest?q=${fx.search_word}`,
                     `/view/${fx.hostile}/manifest`];
      const problems = [];
      for (const url of pages) {
        const resp = await page.goto(env.server.base + url);
        assert(resp.status() === 200, `${url}: ${resp.status()}`);
        // the embedded viewer finishes loading first: leaving earlier would cancel its requests
        await page.waitForLoadState("networkidle");
        // evaluated through the DevTools protocol: the pages' CSP (script-src 'self') stays on
        await page.evaluate(axe);
        const result = await page.evaluate(() =>
          window.axe.run({ exclude: [["iframe.viewer"]] }, { resultTypes: ["violations"] }));
        for (const v of result.violations)
          problems.push(`${url}: ${v.id} (${v.impact}) on ${v.nodes.length} element(s): ${v.help}`);
      }
      await env.screenshot(page, this.name, "last");
      assert(problems.length === 0, `axe-core violations on iiifd's own pages:\n  ${problems.join("\n  ")}`);
    },
  },
  ...MAPS_TESTS,
  ...CONTENT_STATE_TESTS,
  ...AUTH_TESTS,
];
