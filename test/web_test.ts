/**
 * `permafrost serve` end to end: a small local repository made through the CLI, the server as
 * a subprocess on port 0, and headless Chromium (Debian's, driven by playwright-core; see
 * test/rig/chromium.ts) reading the pages. The numbers on the pages must be the ones the CLI
 * prints. Every page is looked at in a 1280x800 window: it must fit the window's width, and a
 * full-page screenshot of it is written to `.cache/artifacts/web_<page>.png` (dashboard,
 * snapshots, restore, prices, restore_jobs, and charts: the charts alone with crowded values
 * and a long label) for a reviewer. The restore jobs page is read on a second repository, in
 * the local back end's cold simulation, with a job a real `restore` saved.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { usd } from "../host/cli/estimate_render.ts";
import { barChart, lineChart } from "../host/web/charts.ts";
import { html } from "../host/web/html.ts";
import { page as shell } from "../host/web/page_frame.ts";
import { ensureChromium, launchOptions } from "./rig/chromium.ts";
import type { ColdRecord } from "../plugins/storage/local/cold_simulation.ts";
import { COLD_DIR } from "../plugins/storage/local/object_path.ts";
import { cli, initColdRepo, PASSWORD, randomBytes, tempDir } from "./helpers.ts";

const TAG = "<script>alert(1)</script>";
const artifacts = join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "artifacts");
/** A common laptop window: no page may be wider. */
const VIEWPORT = { width: 1280, height: 800 };

type Box = { x: number; y: number; width: number; height: number };

/**
 * Writes a full-page screenshot of what `page` shows to `.cache/artifacts/web_<name>.png` (for a
 * reviewer), then asserts the page fits the window's width without a horizontal scroll bar.
 */
async function lookAt(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `web_${name}.png`), fullPage: true });
  const width = await page.evaluate<number>("document.documentElement.scrollWidth");
  assert.ok(width <= VIEWPORT.width, `${name} is ${width} pixels wide`);
}

interface Server {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** A line item of `cost --json`. */
interface Item {
  what: string;
  usd: number;
}

/** Where Chromium laid out `item` (it must be shown). */
async function boxOf(item: Locator): Promise<Box> {
  const box = await item.boundingBox();
  assert.ok(box, "not laid out");
  return box;
}

/** Where Chromium laid out each element `items` finds. */
async function boxesOf(items: Locator): Promise<(Box & { text: string })[]> {
  const out = [];
  for (const item of await items.all()) {
    out.push({ ...await boxOf(item), text: await item.textContent() ?? "" });
  }
  assert.ok(out.length > 0, "nothing found");
  return out;
}

/** Half a pixel for rounding. */
const SLACK = 0.5;

function assertInside(outer: Box, inner: (Box & { text: string })[], what: string): void {
  for (const b of inner) {
    const ok = b.x >= outer.x - SLACK && b.y >= outer.y - SLACK &&
      b.x + b.width <= outer.x + outer.width + SLACK &&
      b.y + b.height <= outer.y + outer.height + SLACK;
    assert.ok(
      ok,
      `${what} "${b.text}" is cut: ${JSON.stringify(b)} not in ${JSON.stringify(outer)}`,
    );
  }
}

function assertApart(boxes: (Box & { text: string })[], what: string): void {
  boxes.forEach((a, i) =>
    boxes.slice(i + 1).forEach((b) => {
      const overlap = a.x + a.width > b.x + SLACK && b.x + b.width > a.x + SLACK &&
        a.y + a.height > b.y + SLACK && b.y + b.height > a.y + SLACK;
      assert.ok(!overlap, `in ${what}, "${a.text}" and "${b.text}" overlap`);
    })
  );
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
  // A file only the first snapshot has: once that snapshot is forgotten, its data is dead.
  fs.writeFileSync(join(src, "gone"), randomBytes(400_000, 9));
  // docs/note.txt is declared never to change; it changes, so the second backup has a finding.
  const protect = ["--never-change", "docs/note.txt"];
  const first = await cli(["backup", src, "--tag", TAG, ...protect], env);
  assert.equal(first.code, 0, first.stderr);
  fs.rmSync(join(src, "gone"));
  fs.writeFileSync(join(src, "docs", "note.txt"), "hello, changed\n");
  const second = await cli(["backup", src, "--tag", TAG, ...protect], env);
  assert.equal(second.code, 5, second.stderr);
  for (const args of [["forget", "--keep-last", "1"], ["gc", "mark"]]) {
    const out = await cli(args, env);
    assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
  }
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
      const page: Page = await browser.newPage({ viewport: VIEWPORT });

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
          const bars = page.locator("figure.bars .bar");
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
          assert.match(
            await page.locator("#dead-data").textContent() ?? "",
            /from the gc mark of/i,
          );
          await lookAt(page, "dashboard");
        },
      );

      await t.step(
        "the line-item chart shows every label whole inside its box, each value once",
        async () => {
          const chart = page.locator("figure.bars");
          const labels = chart.locator(".bar .label");
          assert.deepEqual(await labels.allTextContents(), bill.items.map((i: Item) => i.what));
          assertInside(await boxOf(chart), await boxesOf(labels), "a line item's label");
          const cut = await labels.evaluateAll((ls) =>
            ls.filter((l) => l.scrollWidth > l.clientWidth).map((l) => l.textContent)
          );
          assert.deepEqual(cut, [], "labels wider than their column");
          const values = await chart.locator(".bar .value").allTextContents();
          assert.deepEqual(values, bill.items.map((i: Item) => usd(i.usd)));
          assertApart(await boxesOf(chart.locator(".label, .value")), "the line-item chart");
        },
      );

      await t.step(
        "the projection prints every label inside its box, apart, and no value twice",
        async () => {
          const chart = page.locator("#projection svg");
          const texts = chart.locator("text");
          assertInside(await boxOf(chart), await boxesOf(texts), "a projection label");
          assertApart(await boxesOf(texts), "the projection");
          const values = await chart.locator("text.value, text.axis-label").allTextContents();
          assert.deepEqual(values, [...new Set(values)], `a value printed twice: ${values}`);
          // The first month's value is printed: the 12 months are one run of equal bills here.
          assert.ok(values.includes(usd(bill.projection.usd[0])), values.join(", "));
        },
      );

      await t.step(
        "charts keep crowded values and long labels inside their box and apart",
        async () => {
          const growth = Array.from({ length: 12 }, (_, i) => ({
            label: `2027-${String(i + 1).padStart(2, "0")}`,
            value: 123_456 + 1_000 * i,
            text: usd(123_456 + 1_000 * i),
          }));
          const long = "per-object overhead, 8 KB each at STANDARD rates (first 50 TB) " +
            "for the metadata packs' hot copies, and a_name_without_any_space_to_break_it_at";
          const body = html`${lineChart("growth", growth, usd)}${
            barChart("items", [{ label: long, value: 1, text: "$1.00" }])
          }`;
          const alone = await browser!.newPage({ viewport: VIEWPORT });
          await alone.setContent(shell("Charts", "", "/repo", body).value);
          const line = alone.locator("svg.line");
          const texts = line.locator("text");
          assertInside(await boxOf(line), await boxesOf(texts), "a projection label");
          assertApart(await boxesOf(texts), "a projection of growing months");
          const bars = alone.locator("figure.bars");
          assertInside(await boxOf(bars), await boxesOf(bars.locator(".label")), "a long label");
          assert.equal(await bars.locator(".label").textContent(), long);
          await lookAt(alone, "charts");
          await alone.close();
        },
      );

      await t.step("the dead share is a bar with its numbers as its text alternative", async () => {
        assert.ok(bill.dead_data.share > 0, "the forgotten snapshot left dead data");
        const bar = page.getByRole("img", { name: /^Dead data: / });
        assert.equal(await bar.count(), 1);
        const name = await bar.getAttribute("aria-label") ?? "";
        const share = `${(bill.dead_data.share * 100).toFixed(1)}%`;
        assert.ok(name.includes(share) && name.includes(usd(bill.dead_data.usd)), name);
        const part = Number(await bar.locator("rect.part").getAttribute("width"));
        assert.ok(Math.abs(part - bill.dead_data.share * 100) <= 0.1, String(part));
        assert.equal(await page.locator("#dead-share").textContent(), share);
      });

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
          const finding = page.locator(`#findings tr[data-snapshot="${id}"]`);
          assert.equal(await finding.count(), 1);
          assert.equal(await finding.locator("td.kind").textContent(), "changed");
          assert.match(
            await finding.locator("code.restore").textContent() ?? "",
            /^permafrost restore [0-9a-f]{64}:\/src\/docs\/note\.txt --target DIR$/,
          );
          await lookAt(page, "snapshots");
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
            // The time is one column, labelled with what it is the time of.
            const heads = await page.locator("#alternatives th").allTextContents();
            assert.deepEqual(heads.filter((h) => /time|hour/.test(h)), [
              "time to restore (thaw, then download)",
            ]);
            for (const row of await page.locator("#alternatives tr[data-tier]").all()) {
              const cells = await row.locator("td").allTextContents();
              const times = cells.filter((c) => /\bhours?\b|minute|no waiting|\d h\b/.test(c));
              assert.equal(times.length, 1, cells.join(" | "));
            }
          }
          await lookAt(page, "restore");
        },
      );

      await t.step("the price table page names the table in use", async () => {
        await page.goto(`${server.url}prices`);
        const text = await page.locator("#table-in-use").textContent() ?? "";
        assert.ok(text.includes(bill.prices.region) && text.includes(bill.prices.date), text);
        assert.ok(await page.locator("#prices tr").count() > 20);
        // Labels and values in words, not the table's keys (they stay in data-path and the API).
        const shown = await page.locator("#prices").innerText();
        assert.doesNotMatch(shown, /\b[a-z0-9]+_[a-z0-9_]+\b/, "a snake_case key is shown");
        assert.doesNotMatch(shown, /\b(STANDARD_IA|GLACIER_IR|DEEP_ARCHIVE)\b/);
        const paths = await page.locator("#prices tr[data-path]").evaluateAll((rows) =>
          rows.map((r) => r.getAttribute("data-path") ?? "")
        );
        assert.ok(paths.length > 20);
        for (const path of paths) assert.ok(!shown.includes(path), `${path} is shown`);
        const row = page.locator('#prices tr[data-path="restore.DEEP_ARCHIVE.bulk.per_gb"] td');
        assert.equal(await row.nth(0).textContent(), "S3 Glacier Deep Archive, Bulk tier, data");
        assert.match(await row.nth(1).textContent() ?? "", /^\$[\d.]+ per GB$/);
        await lookAt(page, "prices");
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

/** Ends the first running restore of the cold simulation in `dir`, as if it were done. */
function finishOneRestore(dir: string): void {
  const cold = join(dir, COLD_DIR);
  for (const name of fs.readdirSync(cold).filter((f) => f.endsWith(".json")).sort()) {
    const file = join(cold, name);
    const record: ColdRecord = JSON.parse(fs.readFileSync(file, "utf8"));
    if (record.restore === undefined) continue;
    record.restore.readyAt = record.restore.requestedAt;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp`, file);
    return;
  }
  assert.fail("no restore is running");
}

Deno.test({
  name: "serve lists the restore jobs of a cold repository with the ETA `restore --resume` prints",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureChromium();
    const { dir, env } = await initColdRepo(3600);
    const src = join(await tempDir(), "src");
    fs.mkdirSync(src);
    for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, 40 + i));
    const b = await cli(["backup", src], env);
    assert.equal(b.code, 0, b.stderr);
    const target = await tempDir();
    const first = await cli(
      ["restore", "latest", "--target", target, "--tier", "bulk", "--json"],
      env,
    );
    assert.equal(first.code, 4, first.stderr);
    const { job } = JSON.parse(first.stdout);
    const up = await cli(["restore", "--resume", job, "--tier", "standard"], env);
    assert.equal(up.code, 4, up.stderr);
    finishOneRestore(dir);
    const resumed = await cli(["restore", "--resume", job, "--json"], env);
    assert.equal(resumed.code, 4, resumed.stderr);
    const eta = JSON.parse(resumed.stdout).eta;

    const server = await startServe(env);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch(launchOptions);
      const page: Page = await browser.newPage({ viewport: VIEWPORT });
      await page.goto(`${server.url}?token=${server.token}`);
      await Promise.all([
        page.waitForURL(/\/restore-jobs$/),
        page.click("header a >> text=Restore jobs"),
      ]);
      const row = page.locator(`#restore-jobs tr[data-job="${job}"]`);
      assert.equal(await row.count(), 1);
      assert.equal(await row.locator("td.tier").textContent(), "standard");
      assert.match(await row.locator("td.requested").textContent() ?? "", /standard from .* UTC/);
      const packs = row.locator("td.packs");
      assert.equal(Number(await packs.getAttribute("data-ready")), eta.packs.ready);
      assert.equal(Number(await packs.getAttribute("data-total")), eta.packs.total);
      assert.equal(await packs.textContent(), `${eta.packs.ready}/${eta.packs.total}`);
      const window = row.locator("td.window");
      assert.equal(await window.getAttribute("data-earliest"), eta.window.earliest);
      assert.equal(await window.getAttribute("data-latest"), eta.window.latest);
      assert.equal(await row.getAttribute("data-basis"), "pace");
      const expected = row.locator("td.expected");
      assert.match(
        await expected.textContent() ?? "",
        /^\d{4}-\d\d-\d\d \d\d:\d\d UTCexpected about/,
      );
      assert.ok(
        Date.parse(await expected.getAttribute("data-at") ?? "") <= Date.parse(eta.window.latest),
      );
      assert.ok(((await row.locator("td.paths").textContent()) ?? "").includes(target));
      await lookAt(page, "restore_jobs");

      const res = await fetch(`${server.url}api/restore-jobs`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      const api = await res.json();
      assert.deepEqual(api.jobs.map((j: { id: string }) => j.id), [job]);
      assert.deepEqual(api.jobs[0].eta.window, eta.window);
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
