// harness.mjs: what every browser test shares (docs/internals/browser-tests.md): a real iiifd on a
// free loopback port over the generated fixture library, Debian's Chromium driven by
// playwright-core (from build/web, never a downloaded browser), and a watch on every page that
// turns failed requests, error responses, console errors and page errors into test failures.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WEB_DIR = process.env.WEB_DIR || path.join(ROOT, "build/web");
export const OUT = process.env.BROWSER_OUT || path.join(ROOT, "build/test-output/browser");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// The flags GUIDE.md lists for Debian's Chromium in a container (playwright adds --headless).
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--autoplay-policy=no-user-gesture-required"];

// Console messages from the viewers themselves that say nothing about iiifd. Each is matched on
// its text, and only in the viewer it comes from; anything else logged as an error fails a test.
export const KNOWN_NOISE = [
  // The authorization tests: before the login, a viewer's tiles of a protected image answer 401
  // by design, and OpenSeadragon logs each one it could not load.
  { viewer: "auth", re: /^Tile %s failed to load: [\s\S]*\/iiif\/[23]\/auth-[a-z]+%2F/ },
  // Mirador 4.0.0 bundles React 19 and still reads element.ref in its own components; React 19
  // logs this once per page load. Nothing iiifd sends changes it.
  { viewer: "mirador", re: /^Accessing element\.ref was removed in React 19/ },
  // Mirador 4.0.0's video component renders its <source>/<track> children without React keys.
  { viewer: "mirador", re: /^Each child in a list should have a unique "key" prop[\s\S]*render method of `video`/ },
];

// Requests the viewers make that fail through no fault of iiifd, per viewer.
export const KNOWN_BAD_REQUESTS = [
  // The authorization tests (tests_auth.mjs): before access is granted, a protected image's
  // info.json and tiles answer 401 by design (Auth 1.0 §3.1); that is the flow under test.
  { viewer: "auth", re: /\/iiif\/[23]\/auth-[a-z]+%2F/ },
  // UV 4.4.0 gives OpenSeadragon data: URLs as button images but leaves prefixUrl unset, so
  // OpenSeadragon asks for "/images/data:image/gif;base64,..." (a 404); the buttons are styled by
  // UV's CSS and look right regardless.
  { viewer: "uv", re: /\/images\/data:image\/gif;base64,/ },
];

/** Loads playwright-core from build/web; throws with a clear message when it is missing. */
export function playwright() {
  const req = createRequire(path.join(WEB_DIR, "package.json"));
  try {
    return req("playwright-core");
  } catch (e) {
    throw new Error(`playwright-core is not installed in ${WEB_DIR} (scripts/install-web): ${e.message}`);
  }
}

/** Checks what the tests need; returns a reason string when something is missing, else null. */
export function missingPrerequisite() {
  const r = spawnSync(path.join(ROOT, "scripts/install-web"), [], { stdio: "inherit" });
  if (r.status !== 0) return "scripts/install-web failed: the viewers and playwright-core could not be installed from npm";
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing: scripts/install-deps installs Debian's chromium`;
  try {
    playwright();
  } catch (e) {
    return e.message;
  }
  return null;
}

/** Makes (once) the fixture library; returns its summary (what the tests look for). */
export function fixtures(dir) {
  const r = spawnSync("/usr/bin/python3", [path.join(ROOT, "tests/browser/make_fixtures.py"), dir],
    { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make_fixtures.py failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers started here are ended (by their pid) however the runner ends: normally through
// stop(), or here when it exits early, is interrupted, or is stopped by `timeout`.
const started = new Set();
process.on("exit", () => {
  for (const p of started) p.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => process.exit(130));

/** A running iiifd over root; stop() ends it by its pid. */
export async function startServer(bin, root, work, extra = [], logName = "iiifd.log") {
  const port = await freePort();
  const log = fs.openSync(path.join(OUT, logName), "w");
  const args = ["serve", root, "--host", "127.0.0.1", "--port", String(port),
    "--data-dir", path.join(work, "data"), "--cache-dir", path.join(work, "cache"), ...extra];
  const proc = spawn(bin, args, {
    stdio: ["ignore", log, log],
    env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=0" },
  });
  let exited = null;
  started.add(proc);
  proc.on("exit", (code, sig) => {
    exited = sig || code;
    started.delete(proc);
  });
  const base = `http://127.0.0.1:${port}`;
  const logPath = path.join(OUT, logName);
  let logSeen = 0;
  for (let i = 0; i < 150 && exited === null; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch { /* not listening yet */ }
    await sleep(200);
  }
  if (exited !== null) throw new Error(`iiifd exited (${exited}) at start; see ${OUT}/iiifd.log`);
  return {
    base,
    port,
    alive: () => exited === null,
    // AddressSanitizer / UBSan reports iiifd wrote since the last call (the binary is the
    // sanitizer build in `make test`: a report is a bug even when the response looked fine)
    sanitizerReports: () => {
      const text = fs.readFileSync(logPath, "utf8");
      const fresh = text.slice(logSeen);
      logSeen = text.length;
      return fresh.split("\n").filter((l) => /ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(l));
    },
    stop: async () => {
      if (exited !== null) return;
      proc.kill("SIGTERM");
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) proc.kill("SIGKILL");
    },
  };
}

/** GET url as JSON (throws on a non-2xx answer). */
export async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  return r.json();
}

/** Polls fn until it returns something truthy or ms pass; returns its last value. */
export async function until(fn, ms, every = 250) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) {
    try {
      v = await fn();
      if (v) return v;
    } catch { /* keep polling */ }
    await sleep(every);
  }
  return v;
}

/**
 * A fresh browser (own user-data-dir) for one test, with every request, response and console
 * message of its pages watched. problems() lists what went wrong so far.
 */
export async function openBrowser(server, viewer) {
  const viewers = [].concat(viewer); // a test may open several viewers
  const { chromium } = playwright();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "iiifd-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    timeout: 30000,
  });
  const problems = [];
  const requests = [];
  const expected = []; // error responses a test causes on purpose (browser.expectErrors)
  // Nothing may leave the machine (no CDN): requests elsewhere than iiifd are refused and fail.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.base + "/") || url.startsWith("data:") || url.startsWith("blob:"))
      return route.continue();
    problems.push(`request outside iiifd: ${url}`);
    return route.abort("blockedbyclient");
  });
  const watch = (page) => {
    page.on("request", (r) => requests.push(r));
    const known = (url) => KNOWN_BAD_REQUESTS.some((k) => viewers.includes(k.viewer) && k.re.test(url));
    page.on("requestfailed", (r) => {
      if (known(r.url())) return;
      const why = r.failure()?.errorText || "failed";
      // Viewers cancel requests they no longer need: OpenSeadragon drops tiles of a level it
      // zoomed past, and the video element aborts a ranged media request when it seeks.
      // Those end as net::ERR_ABORTED and are not iiifd's doing.
      if (why === "net::ERR_ABORTED" && /\/iiif\/(3|2|media)\//.test(r.url())) return;
      if (why === "net::ERR_BLOCKED_BY_CLIENT") return; // already reported by the route above
      problems.push(`request failed: ${r.method()} ${r.url()} (${why})`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && !known(r.url()) && !expected.some((re) => re.test(r.url())))
        problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
    });
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const text = m.text();
      if (KNOWN_NOISE.some((n) => viewers.includes(n.viewer) && n.re.test(text))) return;
      // the failed request behind such a message is already reported (with its URL)
      if (/^Failed to load resource/.test(text)) return;
      problems.push(`console error: ${text.slice(0, 300)}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${String(e.message || e).slice(0, 300)}`));
  };
  context.on("page", watch);
  for (const p of context.pages()) watch(p);
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    problems: () => problems.slice(),
    requests: () => requests.slice(),
    expectErrors: (re) => expected.push(re),
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

let shotNo = 0;
/** A screenshot of the page under build/test-output/browser, named after the test and step. */
export async function screenshot(page, test, step) {
  shotNo += 1;
  const file = path.join(OUT, `${String(shotNo).padStart(2, "0")}-${test}-${step}.png`);
  await page.screenshot({ path: file }).catch(() => {});
  return file;
}
