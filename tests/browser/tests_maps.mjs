// tests_maps.mjs: a georeferenced map (docs/maps.md) in the viewers: its Canvas carries an
// embedded Georeference Annotation and navPlace, which Mirador and iiifd's own page must take
// without a console error or a failed request (the harness checks both), while the map's tiles
// load as on any other Canvas.

import fs from "node:fs";
import path from "node:path";

const NAME = "map";

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** A map folder beside the other fixtures: the book's first page with four GCPs. */
function mapFixture(env) {
  const lib = path.join(env.ROOT, "build/browser-fixtures");
  const dir = path.join(lib, NAME);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(lib, "book/page1.jpg"), path.join(dir, "chart.jpg"));
  fs.writeFileSync(path.join(dir, "chart.gcps.csv"),
    "x,y,lon,lat\n100,100,4.10,52.20\n700,120,4.40,52.20\n680,900,4.40,52.00\n90,880,4.10,52.00\n");
}

async function georeferenced(env) {
  mapFixture(env);
  const m = await env.getJSON(`${env.server.base}/iiif/presentation/${NAME}/manifest`);
  const canvas = m.items[0];
  const anno = canvas.annotations[0].items[0];
  assert(anno.motivation === "georeferencing", `no Georeference Annotation: ${JSON.stringify(canvas.annotations)}`);
  assert(m.navPlace && m.navPlace.features.length === 1, "no navPlace on the Manifest");
  return m;
}

const imageRequests = (browser) =>
  browser.requests().filter((r) => /\/iiif\/3\/[^/]+\/[^/]+\/[^/]+\/\d+\/default\.jpg$/.test(r.url()));

export const MAPS_TESTS = [
  {
    name: "mirador-georeferenced-map",
    viewer: "mirador",
    timeout: 60,
    async run(env) {
      const { page, browser } = env;
      await georeferenced(env);
      const manifest = encodeURIComponent(`/iiif/presentation/${NAME}/manifest`);
      await page.goto(`${env.server.base}/viewer/mirador?manifest=${manifest}`);
      const loaded = await env.until(async () => {
        const done = [];
        for (const r of imageRequests(browser)) {
          const resp = await r.response();
          if (resp && resp.status() === 200) done.push(r);
        }
        return done.length >= 2 ? done.length : 0;
      }, 30000);
      assert(loaded >= 2, "Mirador did not load the map's image");
      await env.screenshot(page, this.name, "opened");
    },
  },
  {
    name: "web-page-georeferenced-map",
    viewer: "mirador", // Manifest pages embed it
    timeout: 40,
    async run(env) {
      const { page } = env;
      await georeferenced(env);
      const resp = await page.goto(`${env.server.base}/view/${NAME}/manifest`);
      assert(resp.status() === 200, `the Manifest page answered ${resp.status()}`);
      const title = await page.textContent("h1");
      assert(title && title.includes(NAME), `title: ${title}`);
      await page.waitForLoadState("networkidle");
      await env.screenshot(page, this.name, "opened");
    },
  },
];
