import assert from "node:assert/strict";
import { shippedPriceTable } from "../cost/mod.ts";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { webApp, type WebSource } from "./app.ts";
import type { CostReport } from "./cost_page.ts";
import type { RestoreEstimateReport, RestoreQuery } from "./restore_page.ts";
import type { SnapshotsReport } from "./snapshots_page.ts";

const TOKEN = "test-token-0123456789abcdef";
const ID = "ab".repeat(32);
const table = shippedPriceTable("us-east-1");
const prices = { region: "us-east-1", date: table.date, source: table.origin };

const cost: CostReport = {
  total_usd: 1.25,
  hours: { min: 0, max: 0 },
  items: [
    {
      what: "storage, DEEP_ARCHIVE, cold packs",
      quantity: 1000,
      unit: "GB-month",
      unit_usd: 0.00099,
      usd: 0.99,
    },
    {
      what: "storage, STANDARD, hot metadata",
      quantity: 11.3,
      unit: "GB-month",
      unit_usd: 0.023,
      usd: 0.26,
    },
  ],
  prices,
  recurring_usd: 1.2,
  projection: {
    months: Array.from({ length: 12 }, (_, i) => `2027-${String(i + 1).padStart(2, "0")}`),
    usd: [1.25, ...Array(11).fill(1.2)],
    cumulative_usd: Array.from({ length: 12 }, (_, i) => 1.25 + 1.2 * i),
  },
  objects: [{ kind: "data pack", storage_class: "DEEP_ARCHIVE", objects: 8, bytes: 1 << 30 }],
  totals: { objects: 8, bytes: 1 << 30 },
  dead_data: { share: null, usd: null, note: "unknown" },
  notes: [],
};

const snapshots: SnapshotsReport = {
  snapshots: [{
    id: ID,
    time: "2027-01-02T03:04:05.000Z",
    host: "laptop",
    paths: ["/home/me"],
    tags: ["<script>alert(1)</script>"],
    files: 3,
    size: 1000,
    cost_share: { referenced_bytes: 1000, attributed_bytes: 1000, share: 1, usd_month: 1.2 },
  }],
  cost_share: { basis_usd_month: 1.2, how: "split equally" },
};

function estimateFor(q: RestoreQuery): RestoreEstimateReport {
  const alt = (tier: string, to: string, usd: number) => ({
    tier,
    to,
    total_usd: usd,
    hours: { min: tier === "bulk" ? 48 : 12, max: tier === "bulk" ? 48 : 12 },
    items: [],
    prices,
  });
  const alternatives = [alt("standard", "internet", 0.5), alt("bulk", "internet", 0.1)];
  const chosen = alternatives.find((a) => a.tier === q.tier)!;
  return {
    ...chosen,
    alternatives,
    plan: {
      snapshot: ID,
      path: q.path,
      files: 3,
      bytes: 1000,
      packs: 2,
      packBytes: 2000,
      readBytes: 1500,
    },
    notes: [],
  };
}

const source: WebSource = {
  location: "/backups/<repo>",
  cost: () => Promise.resolve(cost),
  snapshots: () => Promise.resolve(snapshots),
  restoreEstimate: (q) =>
    q.snapshot === ID
      ? Promise.resolve(estimateFor(q))
      : Promise.reject(new InvalidRequest(`no snapshot "${q.snapshot}"`)),
  restoreJobs: () => Promise.resolve({ dir: "/state/restore-jobs", jobs: [], damaged: [] }),
  prices: () => table,
};

const app = webApp(source, TOKEN);
const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };

Deno.test("every route answers 401 without the token, and with a wrong one", async () => {
  for (
    const path of ["/", "/snapshots", "/restore", "/prices", "/api/cost", "/api/prices", "/nope"]
  ) {
    assert.equal((await app.request(path)).status, 401, path);
    const wrong = await app.request(path, { headers: { authorization: "Bearer wrong" } });
    assert.equal(wrong.status, 401, path);
  }
});

Deno.test("?token= sets an HttpOnly SameSite=Strict cookie and redirects without the token", async () => {
  const res = await app.request(`/restore?snapshot=${ID}&token=${TOKEN}`);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), `/restore?snapshot=${ID}`);
  const cookie = res.headers.get("set-cookie")!;
  assert.match(cookie, /^permafrost_token=[^;]+;/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const again = await app.request("/", { headers: { cookie: cookie.split(";")[0] } });
  assert.equal(again.status, 200);
});

Deno.test("the dashboard shows the total and a 12-point projection", async () => {
  const res = await app.request("/", bearer);
  assert.equal(res.status, 200);
  const page = await res.text();
  assert.match(page, /id="total-usd" data-usd="1.25">\$1.25</);
  assert.equal(page.match(/<g class="point"/g)?.length, 12);
  assert.equal(page.match(/<div class="bar"/g)?.length, 2);
  assert.ok(page.includes("/backups/&lt;repo&gt;"));
});

Deno.test("the snapshots page shows a tag holding HTML as text", async () => {
  const page = await (await app.request("/snapshots", bearer)).text();
  assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(!page.includes("<script>"));
  assert.ok(page.includes(`data-id="${ID}"`));
});

Deno.test("the restore estimator shows every tier's dollars and hours, and errors as text", async () => {
  const page = await (await app.request(`/restore?snapshot=${ID}&path=/docs&tier=bulk`, bearer))
    .text();
  assert.match(page, /<tr class="chosen" data-tier="bulk" data-to="internet">/);
  assert.match(page, /data-tier="standard"[^]*data-usd="0.5"[^]*data-min="12"/);
  assert.match(page, /id="packs">2</);
  // The time is one column, once per row: "12.0 hours" is not also printed as "12–12 h".
  const heads = [...page.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(heads, ["tier", "to", "dollars", "time to restore (thaw, then download)"]);
  const row = /<tr class="chosen"[^]*?<\/tr>/.exec(page)![0];
  assert.equal(row.replace(/<[^>]*>/g, "").match(/hours/g)?.length, 1, row);
  assert.ok(!/\d h\b/.test(page));
  const bad = await app.request("/restore?snapshot=%3Cb%3E&path=/", bearer);
  assert.equal(bad.status, 400);
  assert.ok((await bad.text()).includes("no snapshot &quot;&lt;b&gt;&quot;"));
  // Without a query the form is shown, preset to the latest snapshot.
  const form = await (await app.request("/restore", bearer)).text();
  assert.match(form, new RegExp(`<option value="${ID}" selected>`));
  assert.ok(!form.includes('id="estimate"'));
});

Deno.test("the JSON API sends the source's data and a 400 for a bad request", async () => {
  assert.deepEqual(await (await app.request("/api/cost", bearer)).json(), cost);
  assert.deepEqual(await (await app.request("/api/snapshots", bearer)).json(), snapshots);
  const api = await (await app.request("/api/prices", bearer)).json();
  assert.deepEqual([api.region, api.date, api.source], [prices.region, prices.date, prices.source]);
  assert.deepEqual(api.storage_gb_month, table.storage_gb_month);
  const est =
    await (await app.request(`/api/restore-estimate?snapshot=${ID}&path=/&tier=bulk`, bearer))
      .json();
  assert.equal(est.total_usd, 0.1);
  const missing = await app.request("/api/restore-estimate?path=/", bearer);
  assert.equal(missing.status, 400);
  const unknown = await app.request("/api/restore-estimate?snapshot=zz", bearer);
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), { error: 'no snapshot "zz"' });
});
