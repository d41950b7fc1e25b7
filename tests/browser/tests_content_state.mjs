// tests_content_state.mjs: IIIF Content State 1.0 in the viewers (docs/content-state.md): a link
// with ?iiif-content= opens Mirador at the encoded Canvas with the region in view (asserted on
// Mirador's state and OpenSeadragon's box), several targets side by side, Clover at its Canvas,
// a state given by reference, a drop of plain JSON, "Link to this view" on the Manifest page
// reading the viewer's current view, the time of a video, and hostile states shown as text only.

const manifestPath = (name) => `/iiif/presentation/${name}/manifest`;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// §6.1, as the spec's JavaScript does it (Node has btoa)
const encode = (text) =>
  btoa(encodeURIComponent(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const decode = (s) =>
  decodeURIComponent(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice(0, (4 - (s.length % 4)) % 4)));

const canvasState = (manifest, canvas, xywh) => ({
  id: canvas + (xywh ? `#xywh=${xywh.join(",")}` : ""),
  type: "Canvas",
  partOf: [{ id: manifest, type: "Manifest" }],
});

async function bookIds(env) {
  const m = await env.getJSON(env.server.base + manifestPath(env.fx.book));
  return { manifest: m.id, canvases: m.items.map((c) => c.id) };
}

/**
 * Mirador's window `id`: its Canvas (Mirador's state) and the rectangle of the Canvas that
 * OpenSeadragon shows (its viewport's bounds, in Canvas units: Mirador places the images on the
 * Canvas's coordinates). Mirador keeps the OpenSeadragon viewer in a React hook of its
 * component; it is found from the viewer's element.
 */
const miradorView = (page, id = "iiifd", index = 0) =>
  page.evaluate(([id, index]) => {
    const s = window.iiifdMirador && window.iiifdMirador.store.getState();
    const win = s && s.windows[id];
    const box = document.querySelectorAll(".openseadragon-container")[index];
    if (!win || !box) return null;
    let osd = null;
    for (let el = box; el && !osd; el = el.parentElement) {
      const key = Object.keys(el).find((k) => k.startsWith("__reactFiber$"));
      for (let f = key && el[key]; f && !osd; f = f.return)
        for (let h = f.memoizedState; h && typeof h === "object" && !osd; h = h.next) {
          const v = h.memoizedState && h.memoizedState.current;
          if (v && v.viewport && typeof v.viewport.getBounds === "function") osd = v;
        }
    }
    if (!osd || !osd.world.getItemCount()) return null;
    const b = osd.viewport.getBounds(true); // where it is now, not where it is going
    return { canvasId: win.canvasId, rect: [b.x, b.y, b.width, b.height] };
  }, [id, index]);

/** The viewport contains the region and is not much larger: the region fills one dimension. */
function regionFits(rect, r) {
  const inside = rect[0] <= r[0] + 1 && rect[1] <= r[1] + 1 &&
    rect[0] + rect[2] >= r[0] + r[2] - 1 && rect[1] + rect[3] >= r[1] + r[3] - 1;
  const fill = Math.min(rect[2] / r[2], rect[3] / r[3]);
  return inside && fill < 1.3;
}

async function miradorAt(env, page, canvas, region, id = "iiifd", index = 0) {
  const view = await env.until(async () => {
    const v = await miradorView(page, id, index);
    return v && v.canvasId === canvas && (!region || regionFits(v.rect, region)) ? v : null;
  }, 20000);
  // and still there once OpenSeadragon has finished moving (what Mirador reports it shows)
  const last = view ? await settled(env, page, id, index) : await miradorView(page, id, index);
  assert(view && last.canvasId === canvas && (!region || regionFits(last.rect, region)),
    `Mirador window ${id} is at ${JSON.stringify(last)}, not at ${canvas} ${JSON.stringify(region)}`);
  return last;
}

/**
 * Mirador's view once it stops moving: after OpenSeadragon's animation (1.2 s), which Mirador
 * reports when it ends, two looks 400 ms apart agree.
 */
async function settled(env, page, id = "iiifd", index = 0) {
  await env.sleep(1500);
  let last = "";
  const v = await env.until(async () => {
    const view = await miradorView(page, id, index);
    const now = JSON.stringify(view && view.rect.map(Math.round));
    const same = view && now === last;
    last = now;
    return same ? view : null;
  }, 10000, 400);
  assert(v, "Mirador's view did not settle");
  return v;
}

const hasTilesOf = (browser, word) =>
  browser.requests().some((r) => /\/iiif\/[23]\/[^/]+\/\d+,\d+,\d+,\d+\//.test(r.url()) && r.url().includes(word));

export const CONTENT_STATE_TESTS = [
  {
    name: "content-state-mirador-canvas-region-and-comparison",
    viewer: "mirador",
    timeout: 60,
    async run(env) {
      const { page, browser } = env;
      const { manifest, canvases } = await bookIds(env);
      // §2.2.1 the full Annotation, encoded: page 3, its first line
      const region = [150, 180, 700, 120];
      const full = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        type: "Annotation",
        motivation: ["contentState"],
        target: canvasState(manifest, canvases[2], region),
      };
      await page.goto(`${env.server.base}/viewer/mirador?iiif-content=${encode(JSON.stringify(full))}`);
      await miradorAt(env, page, canvases[2], region);
      assert(await env.until(() => hasTilesOf(browser, "page3"), 20000), "no tiles of page 3");
      await env.screenshot(page, this.name, "region");
      // a tall region: it must fit the height
      const tall = [100, 50, 80, 600];
      await page.goto(`${env.server.base}/viewer/mirador?iiif-content=${encode(JSON.stringify(canvasState(manifest, canvases[0], tall)))}`);
      await miradorAt(env, page, canvases[0], tall);
      // §5.3 two targets: two windows, each at its Canvas (and region)
      const both = { type: "Annotation", motivation: "contentState",
        target: [canvasState(manifest, canvases[1], region), canvasState(manifest, canvases[2])] };
      await page.goto(`${env.server.base}/viewer/mirador?iiif-content=${encode(JSON.stringify(both))}`);
      await miradorAt(env, page, canvases[1], region, "iiifd", 0);
      const second = await env.until(async () => {
        const v = await miradorView(page, "iiifd-2", 1);
        return v && v.canvasId === canvases[2] ? v : null;
      }, 20000);
      assert(second, "the second window does not show page 3");
      await env.screenshot(page, this.name, "comparison");
      await page.waitForLoadState("networkidle");
    },
  },
  {
    name: "content-state-clover-uv-and-by-reference",
    viewer: ["clover", "uv", "mirador"],
    timeout: 60,
    async run(env) {
      const { page, browser } = env;
      const { manifest, canvases } = await bookIds(env);
      // Clover reads content states itself: it is given the target
      await page.goto(`${env.server.base}/viewer/clover?iiif-content=${encode(JSON.stringify(canvasState(manifest, canvases[2], [10, 10, 400, 300])))}`);
      assert(await env.until(() => hasTilesOf(browser, "page3"), 20000), "Clover asked for no tiles of page 3");
      await page.getByText("The third page", { exact: true }).first().waitFor({ timeout: 15000 });
      await page.waitForLoadState("networkidle");
      // UV through the Canvas index (a Range would open at its first Canvas the same way)
      await page.goto(`${env.server.base}/viewer/uv?iiif-content=${encode(JSON.stringify(canvasState(manifest, canvases[1])))}`);
      assert(await env.until(() => hasTilesOf(browser, "page2"), 25000), "UV asked for no tiles of page 2");
      await page.waitForLoadState("networkidle");
      // §2.2.2 by reference: a URI whose kind the server cannot tell from its form is fetched
      // by the page and opened as what it is (here the Manifest, asked for as ?format=json)
      await page.goto(`${env.server.base}/viewer/mirador?iiif-content=${encodeURIComponent(manifest + "?format=json")}`);
      await env.until(() => page.url().includes(`iiif-content=${encodeURIComponent(manifest)}`) &&
        !page.url().includes("format"), 15000);
      assert(!page.url().includes("format"), `the page did not open the fetched Manifest: ${page.url()}`);
      await page.waitForSelector(".mirador-thumb-navigation img", { timeout: 20000 });
      await page.waitForLoadState("networkidle");
    },
  },
  {
    name: "content-state-drop-and-share",
    viewer: "mirador",
    timeout: 60,
    async run(env) {
      const { page } = env;
      const { manifest, canvases } = await bookIds(env);
      // §3.3: a pasted URI (here an iiifd Canvas's: its Manifest is known from it) opens there
      await page.goto(`${env.server.base}/viewer/mirador?manifest=${encodeURIComponent(manifest)}`);
      await page.waitForSelector(".mirador-thumb-navigation img", { timeout: 20000 });
      await page.evaluate((text) => {
        const dt = new DataTransfer();
        dt.setData("text/plain", text);
        document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
      }, canvases[1]);
      await env.until(() => page.url().includes("iiif-content="), 10000);
      assert(new URL(page.url()).searchParams.get("iiif-content") === canvases[1], `the paste opened ${page.url()}`);
      await miradorAt(env, page, canvases[1], null);
      // §3.4: plain JSON dropped on the viewer (never encoded) opens it there
      const region = [150, 180, 700, 120];
      const json = JSON.stringify(canvasState(manifest, canvases[2], region));
      await page.evaluate((text) => {
        const dt = new DataTransfer();
        dt.setData("text/plain", text);
        document.querySelector("#viewer").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, json);
      await env.until(() => !page.url().includes(encodeURIComponent(canvases[1])), 10000);
      const enc = new URL(page.url()).searchParams.get("iiif-content");
      assert(enc && decode(enc) === json, `the drop opened ${page.url()}`);
      await miradorAt(env, page, canvases[2], region);
      // the viewer page's own "Link to this view" follows the view shown
      await page.locator("a.iiifd-share").click();
      const own = JSON.parse(decode(new URL(page.url()).searchParams.get("iiif-content")));
      assert(own.id.startsWith(canvases[2] + "#xywh=") && own.partOf[0].id === manifest,
        `the viewer page shares ${JSON.stringify(own)}`);
      await page.waitForLoadState("networkidle");
      // "Link to this view" on the Manifest page reads what the viewer shows now
      await page.goto(`${env.server.base}/view/${env.fx.book}/manifest`);
      const frame = page.frameLocator("iframe.viewer");
      await frame.locator(".mirador-thumb-navigation img").first().waitFor({ timeout: 20000 });
      const inner = page.frames().find((f) => f.url().includes("/viewer/mirador"));
      await env.until(() => inner.evaluate(() => !!window.iiifdMirador), 10000);
      const shownRegion = [300, 400, 200, 150];
      // a person goes to page 2 and zooms in (through Mirador's own actions)
      const act = (name, args) => inner.evaluate(([name, args]) => {
        const M = window.Mirador.actions ? window.Mirador : window.Mirador.default;
        window.iiifdMirador.store.dispatch(M.actions[name](...args));
      }, [name, args]);
      await act("setCanvas", ["iiifd", canvases[1]]);
      await env.until(async () => (await miradorView(inner))?.canvasId === canvases[1], 10000);
      // OpenSeadragon has opened page 2, and the side panel lists its lines (the layout is set)
      await page.waitForLoadState("networkidle");
      await frame.locator("li[annotationid]", { hasText: "A zeppelin over" }).first().waitFor({ timeout: 15000 });
      // pan, then zoom (OpenSeadragon animates each; together they would end elsewhere)
      const centre = [shownRegion[0] + shownRegion[2] / 2, shownRegion[1] + shownRegion[3] / 2];
      await act("updateViewport", ["iiifd", { x: centre[0], y: centre[1] }]);
      await settled(env, inner);
      await act("updateViewport", ["iiifd", { zoom: 1 / shownRegion[2] }]);
      const now = (await settled(env, inner)).rect.map(Math.round);
      assert(Math.abs(now[2] - shownRegion[2]) < 3 && Math.abs(now[0] + now[2] / 2 - centre[0]) < 15,
        `Mirador did not go to the region: ${now}`);
      await page.locator('button[data-copy="share-url"]').click();
      const link = await page.locator("#share-url").inputValue();
      const u = new URL(link);
      const state = JSON.parse(decode(u.searchParams.get("iiif-content")));
      assert(state.id.startsWith(canvases[1] + "#xywh=") && state.partOf[0].id === manifest,
        `the shared state is ${JSON.stringify(state)}`);
      const shared = state.id.split("#xywh=")[1].split(",").map(Number);
      assert(shared.every((v, i) => Math.abs(v - Math.max(0, now[i])) <= 1) && Math.abs(shared[2] - shownRegion[2]) < 3,
        `shared region ${shared} is not the view ${now} (zoomed to ${shownRegion})`);
      await page.waitForLoadState("networkidle");
      // and the link opens there
      await page.goto(link);
      const frame2 = page.frames().find((f) => f.url().includes("/viewer/mirador"));
      await env.until(() => frame2.evaluate(() => !!window.iiifdMirador), 15000);
      await miradorAt(env, frame2, canvases[1], shared);
      await env.screenshot(page, this.name, "shared");
      await page.waitForLoadState("networkidle");
    },
  },
  {
    name: "content-state-search-hit",
    viewer: "mirador",
    timeout: 45,
    async run(env) {
      const { page, fx } = env;
      const { canvases } = await bookIds(env);
      // the book's search results: the hit on page 2 carries a content state
      await env.until(async () => ((await env.getJSON(`${env.server.base}${manifestPath(fx.book)}/search?q=${fx.search_word}`)).items || []).length, 30000);
      await page.goto(`${env.server.base}/view/${fx.book}/manifest?q=${fx.search_word}`);
      const link = page.locator("a.iiif-cs").first();
      await link.waitFor({ timeout: 10000 });
      // a drag carries the plain JSON (§3.4), the same as data-iiif-content
      const dragged = await link.evaluate((a) => {
        const dt = new DataTransfer();
        a.dispatchEvent(new DragEvent("dragstart", { dataTransfer: dt, bubbles: true }));
        return [dt.getData("text/plain"), a.getAttribute("data-iiif-content")];
      });
      assert(dragged[0] && dragged[0] === dragged[1], `the drag carries ${dragged[0]}`);
      const state = JSON.parse(dragged[0]);
      assert(state.id.startsWith(canvases[fx.search_page - 1] + "#xywh="), `the hit's state is ${dragged[0]}`);
      const box = state.id.split("#xywh=")[1].split(",").map(Number);
      // and its link opens Mirador there, with the word in view (once the results page has
      // loaded what it asked for: leaving earlier cancels its requests, net::ERR_ABORTED)
      await page.waitForLoadState("networkidle");
      await page.goto(new URL(await link.getAttribute("href"), page.url()).href);
      await miradorAt(env, page, canvases[fx.search_page - 1], box);
      await env.screenshot(page, this.name, "hit");
      await page.waitForLoadState("networkidle");
    },
  },
  {
    name: "content-state-video-time",
    viewer: "mirador",
    timeout: 45,
    async run(env) {
      const { page } = env;
      const m = await env.getJSON(env.server.base + manifestPath(env.fx.video));
      const state = { id: `${m.items[0].id}#t=2.5`, type: "Canvas", partOf: [{ id: m.id, type: "Manifest" }] };
      await page.goto(`${env.server.base}/viewer/mirador?iiif-content=${encode(JSON.stringify(state))}`);
      const t = await env.until(() => page.evaluate(() => {
        const v = document.querySelector("video");
        return v && v.readyState >= 1 && v.currentTime >= 2.4 ? v.currentTime : null;
      }), 20000);
      assert(t && t < 4, `the video is at ${t}, not at 2.5 s`);
      await page.waitForLoadState("networkidle");
    },
  },
  {
    name: "content-state-hostile-shown-as-text",
    viewer: "mirador",
    timeout: 45,
    async run(env) {
      const { page, browser } = env;
      let dialogs = 0;
      page.on("dialog", (d) => { dialogs++; d.dismiss(); });
      browser.expectErrors(/\/viewer\/mirador\?.*iiif-content=/); // the refusals asked for here
      const base = env.server.base;
      const payload = '"><img src=x onerror="document.title=\'PWNED\'"><script>document.title="PWNED"</script>';
      const cases = [
        payload,
        encode(JSON.stringify({ id: base + manifestPath(env.fx.book) + payload, type: "Manifest" })),
        encode(JSON.stringify({ id: "https://evil.example/manifest", type: "Manifest" })),
        "JTdCJTIy%%%not-base64",
        encode("x".repeat(20000)),
      ];
      for (const value of cases) {
        const resp = await page.goto(`${base}/viewer/mirador?iiif-content=${encodeURIComponent(value)}`);
        assert(resp.status() === 400, `${value.slice(0, 40)}: ${resp.status()}`);
        const found = await page.evaluate(() => ({
          title: document.title,
          reason: document.querySelector("#reason") && document.querySelector("#reason").textContent,
          scripts: document.scripts.length,
          imgs: document.images.length,
          handlers: [...document.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
        }));
        assert(!found.title.includes("PWNED") && found.scripts === 0 && found.imgs === 0 && found.handlers === 0,
          `${value.slice(0, 40)}: ${JSON.stringify(found)}`);
        assert(found.reason && found.reason.startsWith("iiif-content: "), `no reason shown: ${JSON.stringify(found)}`);
      }
      // through the Manifest page, the embedded viewer shows the reason the same way
      await page.goto(`${base}/view/${env.fx.book}/manifest?iiif-content=${encodeURIComponent(payload)}`);
      const frame = page.frameLocator("iframe.viewer");
      await frame.locator("#reason").waitFor({ timeout: 10000 });
      assert(!(await page.title()).includes("PWNED") && dialogs === 0, "a payload ran");
      await env.screenshot(page, this.name, "refused");
      // the 400 answers are the test's own doing: only they may be in the log
      const unexpected = browser.requests().filter((r) => !r.url().includes("iiif-content") && !r.url().startsWith(base));
      assert(unexpected.length === 0, `requests elsewhere: ${unexpected.map((r) => r.url())}`);
    },
  },
];
