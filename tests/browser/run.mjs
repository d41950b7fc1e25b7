#!/usr/bin/env node
// run.mjs: the browser tests (docs/internals/browser-tests.md). Starts iiifd (IIIFD_BIN, default
// build/asan/iiifd) over a generated library, runs each test in its own fresh Chromium with its
// own timeout inside one total budget (BROWSER_BUDGET seconds, default 480), prints PASS/FAIL per
// test and ends with the line "browser: N passed, N failed". Exit 0 only when nothing failed.
//   node tests/browser/run.mjs [NAME...]    run only the tests whose names contain NAME
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import * as h from "./harness.mjs";
import { TESTS } from "./tests.mjs";

const BUDGET_S = Number(process.env.BROWSER_BUDGET || 480);
let started = Date.now();
const left = () => BUDGET_S * 1000 - (Date.now() - started);

function report(results) {
  const passed = results.filter((r) => r.ok).length;
  console.log(`browser: ${passed} passed, ${results.length - passed} failed`);
  process.exit(results.length > 0 && passed === results.length ? 0 : 1);
}

async function main() {
  const only = process.argv.slice(2);
  const tests = TESTS.filter((t) => only.length === 0 || only.some((n) => t.name.includes(n)));
  fs.rmSync(h.OUT, { recursive: true, force: true });
  fs.mkdirSync(h.OUT, { recursive: true });
  const results = [];
  const failAll = (why) => {
    // not skipped: the scripts install what the tests need, so a missing piece is a failure
    for (const t of tests) {
      console.log(`FAIL ${t.name}: ${why}`);
      results.push({ name: t.name, ok: false });
    }
    report(results);
  };

  const missing = h.missingPrerequisite();
  if (missing) return failAll(missing);
  // the budget is for the tests: a first install from npm (scripts/run-tests allows 180 s more
  // for it) does not eat into it
  started = Date.now();
  const bin = path.resolve(process.env.IIIFD_BIN || path.join(h.ROOT, "build/asan/iiifd"));
  if (!fs.existsSync(bin)) return failAll(`${bin} is missing (make build/asan/iiifd)`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "iiifd-browser-"));
  let server;
  try {
    const lib = path.join(h.ROOT, "build/browser-fixtures");
    const fx = h.fixtures(lib);
    server = await h.startServer(bin, lib, work);
    const env = { server, fx, ...h };
    for (const t of tests) {
      const timeout = Math.min(t.timeout * 1000, left());
      const t0 = Date.now();
      if (timeout <= 0) {
        console.log(`FAIL ${t.name}: not run, the ${BUDGET_S} s budget of the browser tests is spent`);
        results.push({ name: t.name, ok: false });
        continue;
      }
      let browser = null;
      let timer;
      try {
        browser = await h.openBrowser(server, t.viewer);
        const run = t.run({ ...env, browser, page: browser.page });
        const limit = new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`timed out after ${Math.round(timeout / 1000)} s`)), timeout);
        });
        await Promise.race([run, limit]);
        run.catch(() => {});
        const problems = browser.problems();
        if (problems.length) throw new Error(problems.join("\n    "));
        if (!server.alive()) throw new Error("iiifd exited during the test (see iiifd.log)");
        const reports = server.sanitizerReports();
        if (reports.length) throw new Error(`iiifd sanitizer report: ${reports.join("\n    ")}`);
        console.log(`PASS ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        results.push({ name: t.name, ok: true });
      } catch (e) {
        const extra = browser ? browser.problems().filter((p) => !String(e.message).includes(p)) : [];
        if (browser) await h.screenshot(browser.page, t.name, "failure");
        console.log(`FAIL ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e.message}` +
          (extra.length ? "\n    " + extra.join("\n    ") : ""));
        results.push({ name: t.name, ok: false });
      } finally {
        clearTimeout(timer);
        if (browser) await browser.close();
      }
    }
  } catch (e) {
    console.log(`browser: harness error: ${e.stack || e.message}`);
    for (const t of tests.slice(results.length)) {
      console.log(`FAIL ${t.name}: not run (harness error above)`);
      results.push({ name: t.name, ok: false });
    }
  } finally {
    if (server) await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`browser: screenshots in ${path.relative(h.ROOT, h.OUT)}/, ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  report(results);
}

main();
