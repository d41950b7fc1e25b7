// tests_auth.mjs: the Authorization Flow in Debian's Chromium (docs/access.md). A spec-following
// Auth 2.0 client (the algorithm of Auth 2.0 §7, written out below as a page script) against an
// iiifd of its own with one folder per policy: probe -> 401 -> access service in a new tab ->
// log in -> token by postMessage from an iframe -> probe 200 -> the image at full size; the
// degraded tier as the substitute; logout -> 401 again; the same with terms (clickthrough) and
// a kiosk. Then Mirador 4 (Auth 1.0): its login button on a protected Manifest, then the image;
// and Universal Viewer 4 with terms to accept, then the tiles.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The client: only what the spec tells a client to do, nothing iiifd-specific.
const CLIENT = `<!doctype html><html><head><meta charset="utf-8"><title>Auth 2.0 client</title></head>
<body><h1>Auth 2.0 test client</h1><script>
window.authClient = {
  async describe(infoUrl) {
    const r = await fetch(infoUrl);
    const info = await r.json();
    const probe = (info.service || []).find((s) => s.type === "AuthProbeService2");
    return { status: r.status, id: info.id, width: info.width, probe };
  },
  async probe(probe, token) {
    const r = await fetch(probe.id, { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (r.status !== 200) throw new Error("probe answered HTTP " + r.status);
    return r.json();
  },
  openWindow(url) {
    this.win = window.open(url, "_blank");
    return !!this.win;
  },
  openAccess(access) {
    return this.openWindow(access.id + "?origin=" + encodeURIComponent(location.origin));
  },
  async waitClosed(ms) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.win.closed) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  },
  token(service) {
    return new Promise((resolve, reject) => {
      const messageId = "m" + Math.random().toString(16).slice(2);
      const frame = document.createElement("iframe");
      const done = (v, err) => {
        window.removeEventListener("message", onMessage);
        frame.remove();
        clearTimeout(timer);
        err ? reject(err) : resolve(v);
      };
      const onMessage = (e) => {
        if (e.origin !== new URL(service.id).origin) return;
        if (!e.data || e.data.messageId !== messageId) return; // ignore others' messages
        done(e.data);
      };
      const timer = setTimeout(() => done(null, new Error("no message from the token service")), 10000);
      window.addEventListener("message", onMessage);
      frame.style.display = "none";
      frame.src = service.id + "?messageId=" + encodeURIComponent(messageId) +
        "&origin=" + encodeURIComponent(location.origin);
      document.body.appendChild(frame);
    });
  },
  loadImage(url) {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve({ ok: true, width: img.naturalWidth, height: img.naturalHeight });
      img.onerror = () => resolve({ ok: false });
      img.src = url;
    });
  },
};
</script></body></html>`;

let fixtures = null;
function authFixtures(env) {
  if (fixtures) return fixtures;
  const dir = path.join(env.ROOT, "build/browser-auth-fixtures");
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.resolve(process.env.IIIFD_BIN || path.join(env.ROOT, "build/asan/iiifd"));
  const r = spawnSync("/usr/bin/python3", [path.join(env.ROOT, "tests/browser/make_auth_fixtures.py"), dir, bin],
    { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make_auth_fixtures.py failed: ${r.stderr || r.stdout}`);
  fixtures = { ...JSON.parse(r.stdout.trim().split("\n").pop()), bin, dir };
  return fixtures;
}

/** Runs fn(auth, browser, fx) against an iiifd of its own (the policy folders) in its own browser. */
async function withAuthServer(env, name, viewers, fn) {
  const fx = authFixtures(env);
  const work = fs.mkdtempSync(path.join(fx.dir, "run-"));
  const auth = await env.startServer(fx.bin, fx.root, work,
    ["--auth-secrets", "browser-test-secret-0123456789", "--auth-users", fx.users],
    "iiifd-auth.log");
  const browser = await env.openBrowser(auth, ["auth", ...viewers]);
  try {
    await browser.context.route(`${auth.base}/test-client.html`, (route) =>
      route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: CLIENT }));
    await fn(auth, browser, fx);
    const problems = browser.problems();
    assert(problems.length === 0, problems.join("\n    "));
    const reports = auth.sanitizerReports();
    assert(reports.length === 0, `iiifd sanitizer report: ${reports.join("\n    ")}`);
  } catch (e) {
    await env.screenshot(browser.page, name, "failure");
    throw e;
  } finally {
    await browser.close();
    await auth.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const infoURL = (auth, folder) => `${auth.base}/iiif/3/${encodeURIComponent(folder + "/img.png")}/info.json`;

/** Opens the access service in a new tab (as the client does), lets act() work in it, waits for it to close. */
async function throughAccessService(page, access, act) {
  const popupPromise = page.context().waitForEvent("page", { timeout: 10000 });
  assert(await page.evaluate((a) => window.authClient.openAccess(a), access), "window.open was refused");
  const popup = await popupPromise;
  await popup.waitForLoadState("domcontentloaded");
  if (act) await act(popup);
  assert(await page.evaluate(() => window.authClient.waitClosed(10000)), "the access service tab did not close");
}

/** Opens access's logout service in its own tab (as the spec suggests) and closes it. */
async function logoutVia(page, access) {
  const logout = access.service.find((s) => s.type === "AuthLogoutService2");
  const popupPromise = page.context().waitForEvent("page");
  await page.evaluate((u) => window.authClient.openWindow(u), logout.id);
  const popup = await popupPromise;
  await popup.waitForLoadState("domcontentloaded");
  assert(/logged out/i.test(await popup.textContent("h1")), "the logout page did not say so");
  await popup.close();
}

async function tokenFor(page, access) {
  const tokenService = access.service.find((s) => s.type === "AuthAccessTokenService2");
  const msg = await page.evaluate((t) => window.authClient.token(t), tokenService);
  return msg;
}

/**
 * The image OpenSeadragon shows in Mirador's window, once it is fully drawn from loaded tiles:
 * { width, height } of its tile source.
 */
async function miradorShown(page) {
  const handle = await page.waitForFunction(() => {
    const ref = window.Mirador && window.Mirador.OSDReferences.get("iiifd");
    const osd = ref && ref.current;
    if (!osd || osd.world.getItemCount() !== 1) return null;
    const item = osd.world.getItemAt(0);
    // OpenSeadragon 5's list of the tiles it drew last (a private field: none, no pass)
    const loaded = (item._lastDrawn || []).filter((d) => d.tile && d.tile.loaded).length;
    return item.getFullyLoaded() && loaded > 0 && { width: item.source.width, height: item.source.height };
  }, null, { timeout: 20000 });
  return handle.jsonValue();
}

/**
 * Mirador 4 on folder's Manifest: its login bar and button, the login tab, then the full image in
 * the same page (no reload). before: the [width, height] shown before the login (the degraded
 * tier), or null when nothing can be shown.
 */
async function miradorLogin(env, name, auth, page, fx, folder, before) {
  const manifest = encodeURIComponent(`/iiif/presentation/${folder}/manifest`);
  await page.goto(`${auth.base}/viewer/mirador?manifest=${manifest}`);
  // Mirador reads the 1.0 login service and shows its label and a button
  await page.getByText("Log in to the test library").waitFor({ timeout: 20000 });
  if (before) {
    const shown = await miradorShown(page);
    assert(shown.width === before[0] && shown.height === before[1],
      `before the login OpenSeadragon shows ${JSON.stringify(shown)}, not the degraded tier ${before}`);
  }
  await env.screenshot(page, name, "login-bar");
  await page.getByRole("button", { name: "Continue" }).click();
  const popupPromise = page.context().waitForEvent("page", { timeout: 10000 });
  await page.locator("button:visible", { hasText: "Log in" }).last().click();
  const popup = await popupPromise;
  await popup.waitForURL(/\/auth\/access\//, { timeout: 10000 }); // the login form's tab
  await popup.waitForSelector("#user");
  const id = encodeURIComponent(`${folder}/img.png`).replace(/\./g, "\\.");
  const tile = new RegExp(`/iiif/3/${id}/[^/]+/[^/]+/0/default\\.jpg$`);
  // Mirador takes the token (postMessage from its iframe) and reads info.json again with it
  // (200 now); the layer OpenSeadragon made from the 401 or degraded description is made anew
  // from the full one (Mirador 4.0 keeps it otherwise: iiifd's Mirador page asks for it again,
  // web/boot/mirador.js), and its tiles load, with no reload of the page
  const infoOK = page.waitForResponse((r) => r.status() === 200 &&
    r.url().endsWith(`/iiif/3/${encodeURIComponent(`${folder}/img.png`)}/info.json`), { timeout: 20000 });
  const tileLoaded = page.waitForResponse((r) => r.status() === 200 && tile.test(r.url()) &&
    !r.url().includes("/full/,120/"), { timeout: 30000 }); // not the thumbnail: the image itself
  await popup.fill("#user", fx.user);
  await popup.fill("#password", fx.password);
  await popup.click("#confirm");
  await infoOK;
  await tileLoaded;
  const shown = await miradorShown(page);
  const full = [fx.width, fx.height].map((v) => (folder === "auth-strict" ? 4 * v : v));
  assert(shown.width === full[0] && shown.height === full[1],
    `OpenSeadragon shows ${JSON.stringify(shown)}, not the full ${full[0]}x${full[1]} image`);
  await page.waitForLoadState("networkidle");
  await env.screenshot(page, name, "logged-in");
}

export const AUTH_TESTS = [
  {
    name: "auth2-client-login-degraded-logout",
    viewer: "auth",
    timeout: 90,
    async run(env) {
      await withAuthServer(env, this.name, [], async (auth, browser, fx) => {
        const page = browser.page;
        await page.goto(`${auth.base}/test-client.html`);
        const d = await page.evaluate((u) => window.authClient.describe(u), infoURL(auth, "auth-login"));
        assert(d.probe, "no AuthProbeService2 in the info.json");
        let res = await page.evaluate((p) => window.authClient.probe(p), d.probe);
        assert(res.status === 401, `anonymous probe status ${res.status}`);
        assert(res.heading && res.heading.en[0] === "Readers only", "probe heading missing");
        // the degraded tier: the substitute loads, at the degraded size
        assert(res.substitute && res.substitute.length === 1, "no substitute for the degraded tier");
        let img = await page.evaluate((u) => window.authClient.loadImage(u), res.substitute[0].id);
        assert(img.ok && Math.max(img.width, img.height) === fx.degraded,
          `substitute ${JSON.stringify(img)} is not ${fx.degraded} px`);
        // active access service: the login form in a new tab
        const access = d.probe.service.find((s) => s.profile === "active");
        assert(access && access.label && access.confirmLabel, "no active access service with its texts");
        await throughAccessService(page, access, async (popup) => {
          await popup.fill("#user", fx.user);
          await popup.fill("#password", fx.password);
          await popup.click("#confirm");
        });
        const msg = await tokenFor(page, access);
        assert(msg.type === "AuthAccessToken2" && msg.accessToken, `token service said ${JSON.stringify(msg)}`);
        res = await page.evaluate(([p, t]) => window.authClient.probe(p, t), [d.probe, msg.accessToken]);
        assert(res.status === 200, `probe with the token: ${res.status}`);
        const full = `${auth.base}/iiif/3/${encodeURIComponent("auth-login/img.png")}/full/max/0/default.jpg`;
        img = await page.evaluate((u) => window.authClient.loadImage(u), full);
        assert(img.ok && img.width === fx.width && img.height === fx.height, `full image ${JSON.stringify(img)}`);
        await env.screenshot(page, this.name, "logged-in");
        // logout (in its own tab, as the spec suggests): the probe says 401 again
        await logoutVia(page, access);
        res = await page.evaluate(([p, t]) => window.authClient.probe(p, t), [d.probe, msg.accessToken]);
        assert(res.status === 401, `probe after logout: ${res.status}`);
        const again = await tokenFor(page, access);
        assert(again.type === "AuthAccessTokenError2" && again.profile === "missingAspect",
          `token service after logout: ${JSON.stringify(again)}`);
      });
    },
  },
  {
    name: "auth2-client-clickthrough-kiosk",
    viewer: "auth",
    timeout: 60,
    async run(env) {
      await withAuthServer(env, this.name, [], async (auth, browser) => {
        const page = browser.page;
        await page.goto(`${auth.base}/test-client.html`);
        // clickthrough: the terms in the tab, one click
        let d = await page.evaluate((u) => window.authClient.describe(u), infoURL(auth, "auth-click"));
        assert(d.status === 401, `clickthrough info.json before the terms: ${d.status}`);
        let res = await page.evaluate((p) => window.authClient.probe(p), d.probe);
        assert(res.status === 401 && !res.substitute, "clickthrough probe before the terms");
        let access = d.probe.service[0];
        assert(access.profile === "active" && access.confirmLabel.en[0] === "I agree", "clickthrough access service");
        await throughAccessService(page, access, async (popup) => {
          assert((await popup.textContent("main")).includes("may not be published"), "terms not shown");
          await popup.click("#confirm");
        });
        let msg = await tokenFor(page, access);
        res = await page.evaluate(([p, t]) => window.authClient.probe(p, t), [d.probe, msg.accessToken]);
        assert(res.status === 200, `clickthrough probe after the terms: ${res.status}`);
        const clickImage = `${auth.base}/iiif/3/${encodeURIComponent("auth-click/img.png")}/full/max/0/default.jpg`;
        const click = await page.evaluate((u) => window.authClient.loadImage(u), clickImage);
        assert(click.ok && click.width === 1200, "clickthrough image did not load");
        // logout forgets the accepted terms: probe 401 again, and the image is refused
        await logoutVia(page, access);
        res = await page.evaluate(([p, t]) => window.authClient.probe(p, t), [d.probe, msg.accessToken]);
        assert(res.status === 401, `clickthrough probe after logout: ${res.status}`);
        const refused = await page.evaluate((u) => window.authClient.loadImage(u + "?after-logout"), clickImage);
        assert(!refused.ok, "the clickthrough image still loads after logout");
        // kiosk: opened at once, closes by itself, no interaction
        d = await page.evaluate((u) => window.authClient.describe(u), infoURL(auth, "auth-kiosk"));
        access = d.probe.service[0];
        assert(access.profile === "kiosk", `kiosk profile: ${access.profile}`);
        await throughAccessService(page, access, null);
        msg = await tokenFor(page, access);
        res = await page.evaluate(([p, t]) => window.authClient.probe(p, t), [d.probe, msg.accessToken]);
        assert(res.status === 200, `kiosk probe: ${res.status}`);
        const kiosk = await page.evaluate((u) => window.authClient.loadImage(u),
          `${auth.base}/iiif/3/${encodeURIComponent("auth-kiosk/img.png")}/full/max/0/default.jpg`);
        assert(kiosk.ok && kiosk.width === 1200 && kiosk.height === 900, `kiosk image ${JSON.stringify(kiosk)}`);
      });
    },
  },
  {
    name: "auth1-mirador-login-button-then-full-image",
    viewer: ["auth", "mirador"],
    timeout: 90,
    async run(env) {
      await withAuthServer(env, this.name, ["mirador"], async (auth, browser, fx) => {
        // no tier: Mirador's layer comes from the 401 description, its tiles failed
        await miradorLogin(env, this.name, auth, browser.page, fx, "auth-strict", null);
      });
    },
  },
  {
    name: "auth1-mirador-degraded-tier-then-full-image",
    viewer: ["auth", "mirador"],
    timeout: 90,
    async run(env) {
      await withAuthServer(env, this.name, ["mirador"], async (auth, browser, fx) => {
        // Mirador follows the 302 to the degraded tier and shows it (300 px) until the login
        const w = fx.degraded, h = Math.round((fx.degraded * fx.height) / fx.width);
        await miradorLogin(env, this.name, auth, browser.page, fx, "auth-login", [w, h]);
      });
    },
  },
  {
    name: "auth1-uv-clickthrough-then-tiles",
    viewer: ["auth", "uv"],
    timeout: 90,
    async run(env) {
      await withAuthServer(env, this.name, ["uv"], async (auth, browser) => {
        const page = browser.page;
        const manifest = encodeURIComponent("/iiif/presentation/auth-click/manifest");
        await page.goto(`${auth.base}/viewer/uv?manifest=${manifest}`);
        // UV 4 reads the 1.0 clickthrough service of the 2.1 info.json (401) and shows its
        // header and terms in a dialogue
        await page.getByText("These photographs may not be published.").first().waitFor({ timeout: 30000 });
        await env.screenshot(page, this.name, "terms");
        const popupPromise = page.context().waitForEvent("page", { timeout: 10000 });
        await page.locator("a.confirm:visible").first().click();
        const popup = await popupPromise;
        await popup.waitForURL(/\/auth\/access\//, { timeout: 10000 });
        await popup.waitForSelector("#confirm");
        // after the terms: token by postMessage, info.json again (200), then the tiles
        const tile = (r) => r.status() === 200 &&
          /\/iiif\/2\/auth-click%2Fimg\.png\/\d+,\d+,\d+,\d+\/[^/]+\/0\/default\.jpg$/.test(r.url());
        const tileLoaded = page.waitForResponse(tile, { timeout: 30000 });
        await popup.click("#confirm");
        await tileLoaded;
        await page.waitForLoadState("networkidle");
        await env.screenshot(page, this.name, "opened");
      });
    },
  },
];
