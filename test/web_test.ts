/**
 * `permafrost serve` end to end: a small local repository made through the CLI, the server as
 * a subprocess on port 0, and headless Chromium (Debian's, driven by playwright-core; see
 * test/rig/chromium.ts) reading the pages. The numbers on the pages must be the ones the CLI
 * prints. A screenshot of the dashboard is written to `.cache/artifacts/web_dashboard.png`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { ensureChromium, launchOptions } from "./rig/chromium.ts";
import { cli, PASSWORD, randomBytes, tempDir } from "./helpers.ts";

const TAG = "<script>alert(1)</script>";
const artifacts = join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "artifacts");

interface Server {
  url: string;
  token: string;
  stop(): Promise<void>;
}

async function makeRepo(): Promise<Record<string, string>> {
  const env = {
    PERMAFROST_REPO: join(await tempDir(), "repo"),
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "src");
  fs.mkdirSync(join(src, "docs"), { recursive: true });
  for (let i = 0; i < 3; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(600_000, 5 + i));
  fs.writeFileSync(join(src, "docs", "note.txt"), "hello\n");
  const b = await cli(["backup", src, "--tag", TAG], env);
  assert.equal(b.code, 0, b.stderr);
  const mark = await cli(["gc", "mark"], env);
  assert.equal(mark.code, 0, mark.stderr);
  return env;
}

/** Starts `permafrost serve` on port 0 and reads its address and token from what it prints. */
async function startServe(env: Record<string, string>): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL("../host/cli/main.ts", import.meta.url).pathname,
      "serve",
      "--listen",
      "127.0.0.1:0",
    ],
    env: { PERMAFROST_PASSWORD: PASSWORD, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!/^open .*$/m.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  // Should the test process end without `stop()`, the server ends with it.
  globalThis.addEventListener("unload", kill);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)?.[1];
  const token = /^access token: (\S+)$/m.exec(text)?.[1];
  assert.ok(url && token, `serve printed no address and token:\n${text}`);
  return {
    url,
    token,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function cliJson(args: string[], env: Record<string, string>) {
  const out = await cli([...args, "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

Deno.test({
  name:
    "serve shows the CLI's numbers in Chromium, escapes tags and refuses requests without the token",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureChromium();
    const env = await makeRepo();
    const [bill, bulk, standard] = await Promise.all([
      cliJson(["cost"], env),
      cliJson(["restore", "latest:/", "--estimate", "--tier", "bulk"], env),
      cliJson(["restore", "latest:/", "--estimate", "--tier", "standard"], env),
    ]);
    const snapshots = await cliJson(["snapshots"], env);
    const id: string = snapshots[0].id;
    const server = await startServe(env);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch(launchOptions);
      const page: Page = await browser.newPage();

      await t.step("a request without the token is answered 401", async () => {
        const res = await fetch(server.url);
        await res.body?.cancel();
        assert.equal(res.status, 401);
        const api = await fetch(`${server.url}api/cost`);
        await api.body?.cancel();
        assert.equal(api.status, 401);
        const wrong = await fetch(`${server.url}api/cost`, {
          headers: { authorization: "Bearer not-the-token" },
        });
        await wrong.body?.cancel();
        assert.equal(wrong.status, 401);
      });

      await t.step(
        "the token in the address once sets a cookie and is dropped from it",
        async () => {
          await page.goto(`${server.url}?token=${server.token}`);
          assert.equal(new URL(page.url()).search, "");
          const cookies = await page.context().cookies();
          const cookie = cookies.find((c) => c.name === "permafrost_token");
          assert.ok(cookie?.httpOnly);
          assert.equal(cookie?.sameSite, "Strict");
        },
      );

      await t.step(
        "the dashboard shows the bill `cost --json` gives, 12 projected months and the dead share",
        async () => {
          const total = page.locator("#total-usd");
          assert.equal(Number(await total.getAttribute("data-usd")), bill.total_usd);
          const bars = page.locator("svg.bars g.bar");
          assert.equal(await bars.count(), bill.items.length);
          const points = page.locator("#projection svg g.point");
          assert.equal(await points.count(), 12);
          const labels = await page.locator("#projection svg g.point text.label").allTextContents();
          assert.deepEqual(labels, bill.projection.months);
          const values = await points.evaluateAll((gs) =>
            gs.map((g) => g.getAttribute("data-value"))
          );
          assert.deepEqual(values.map(Number), bill.projection.usd);
          const dead = page.locator("#dead-share");
          assert.equal(Number(await dead.getAttribute("data-share")), bill.dead_data.share);
          assert.match(await page.locator("#dead-data").textContent() ?? "", /from the gc mark of/);
          fs.mkdirSync(artifacts, { recursive: true });
          await page.screenshot({ path: join(artifacts, "web_dashboard.png"), fullPage: true });
        },
      );

      await t.step(
        "the snapshots page lists the snapshot and shows an HTML tag as text",
        async () => {
          await page.goto(`${server.url}snapshots`);
          const row = page.locator(`#snapshots tr[data-id="${id}"]`);
          assert.equal(await row.count(), 1);
          assert.equal(await row.locator("td.tags").textContent(), TAG);
          assert.equal(await page.locator("main script").count(), 0);
          assert.match(await page.content(), /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
          assert.match(await row.locator("td").nth(8).textContent() ?? "", /^100\.0%$/);
        },
      );

      await t.step(
        "the restore estimator gives the CLI's dollars and hours for bulk and standard",
        async () => {
          for (const cliEstimate of [bulk, standard]) {
            await page.goto(`${server.url}restore`);
            await page.selectOption("select[name=snapshot]", id);
            await page.fill("input[name=path]", "/");
            await page.selectOption("select[name=tier]", cliEstimate.tier);
            await Promise.all([page.waitForURL(/\/restore\?/), page.click("button[type=submit]")]);
            assert.equal(
              await page.locator("#packs").textContent(),
              String(cliEstimate.plan.packs),
            );
            const chosen = page.locator("#chosen-usd");
            assert.equal(Number(await chosen.getAttribute("data-usd")), cliEstimate.total_usd);
            for (const a of cliEstimate.alternatives) {
              const row = page.locator(
                `#alternatives tr[data-tier="${a.tier}"][data-to="${a.to}"]`,
              );
              assert.equal(
                Number(await row.locator("td.usd").getAttribute("data-usd")),
                a.total_usd,
              );
              const hours = row.locator("td.hours");
              assert.equal(Number(await hours.getAttribute("data-min")), a.hours.min);
              assert.equal(Number(await hours.getAttribute("data-max")), a.hours.max);
            }
            const chosenRow = page.locator("#alternatives tr.chosen");
            assert.equal(await chosenRow.getAttribute("data-tier"), cliEstimate.tier);
          }
        },
      );

      await t.step("the price table page names the table in use", async () => {
        await page.goto(`${server.url}prices`);
        const text = await page.locator("#table-in-use").textContent() ?? "";
        assert.ok(text.includes(bill.prices.region) && text.includes(bill.prices.date), text);
        assert.ok(await page.locator("#prices tr").count() > 20);
      });

      await t.step("the JSON API answers with the bearer token", async () => {
        const headers = { authorization: `Bearer ${server.token}` };
        const get = async (path: string) => {
          const res = await fetch(server.url + path, { headers });
          assert.equal(res.status, 200, path);
          return await res.json();
        };
        const apiCost = await get("api/cost");
        assert.equal(apiCost.total_usd, bill.total_usd);
        assert.equal(apiCost.dead_data.marked_at, bill.dead_data.marked_at);
        const api = await get("api/snapshots");
        assert.equal(api.snapshots[0].id, id);
        assert.deepEqual(api.snapshots[0].tags, [TAG]);
        const est = await get(`api/restore-estimate?snapshot=${id}&path=/&tier=bulk`);
        assert.equal(est.total_usd, bulk.total_usd);
        assert.deepEqual(est.hours, bulk.hours);
        const table = await get("api/prices");
        assert.deepEqual(
          [table.region, table.date, table.source],
          [bill.prices.region, bill.prices.date, bill.prices.source],
        );
        const bad = await fetch(`${server.url}api/restore-estimate?snapshot=nope&path=/`, {
          headers,
        });
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error, /no snapshot "nope"/);
      });
    } finally {
      await browser?.close();
      await server.stop();
    }
  },
});

Deno.test("serve refuses a malformed --listen and a short --token before opening anything", async () => {
  const listen = await cli(["serve", "--listen", "8080"]);
  assert.equal(listen.code, 2);
  assert.match(listen.stderr, /--listen is HOST:PORT/);
  const token = await cli(["serve", "--token", "short"]);
  assert.equal(token.code, 2);
  assert.match(token.stderr, /--token must be at least 16 characters/);
});
