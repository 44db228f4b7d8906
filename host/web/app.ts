/**
 * The web view as a Hono app, free of any runtime: `serve.ts` hands it to `Deno.serve`, tests
 * call `app.request()`. Pages are rendered on the server from the same data the JSON API
 * sends; the data comes from a {@link WebSource} (the open repository, or a fake in tests).
 *
 * Routes: `/` cost dashboard, `/snapshots`, `/restore` (GET form), `/restore-jobs`, `/prices`;
 * `/api/cost`, `/api/snapshots`, `/api/restore-estimate?snapshot=ID&path=/x&tier=bulk`,
 * `/api/restore-jobs`, `/api/prices` (the table with `source` as estimates name it).
 *
 * @module
 */

import { Hono } from "hono";
import type { PriceTable } from "../cost/mod.ts";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { requireToken } from "./auth.ts";
import { costBody, type CostReport } from "./cost_page.ts";
import type { Html } from "./html.ts";
import { page } from "./page_frame.ts";
import { pricesBody } from "./prices_page.ts";
import { restoreBody, type RestoreEstimateReport, type RestoreQuery } from "./restore_page.ts";
import { restoreJobsBody, type RestoreJobsReport } from "./restore_jobs_page.ts";
import { schedulesBody, type SchedulesReport } from "./schedules_page.ts";
import { snapshotsBody, type SnapshotsReport } from "./snapshots_page.ts";

/** Where the pages' data comes from. Methods may reject; the app turns that into 400/500. */
export interface WebSource {
  /** The repository's location, shown on every page. */
  location: string;
  cost(): Promise<CostReport>;
  snapshots(): Promise<SnapshotsReport>;
  restoreEstimate(query: RestoreQuery): Promise<RestoreEstimateReport>;
  /** The restore jobs of this repository in the state folder, each with its ETA. */
  restoreJobs(): Promise<RestoreJobsReport>;
  prices(): PriceTable;
  /** The scheduled tasks and their runs (`schedule list`); none when not given. */
  schedules?(): Promise<SchedulesReport>;
}

/** The default tier of the estimator form (the CLI's `restore` default). */
const DEFAULT_TIER = "standard";

/** Builds the app: every route behind the token. */
export function webApp(source: WebSource, token: string): Hono {
  const app = new Hono();
  app.use("*", requireToken(token));
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    );
  });

  const show = (title: string, here: string, body: Html) =>
    page(title, here, source.location, body).value;

  app.get("/api/cost", async (c) => c.json(await source.cost()));
  app.get("/api/snapshots", async (c) => c.json(await source.snapshots()));
  app.get("/api/restore-jobs", async (c) => c.json(await source.restoreJobs()));
  app.get("/api/prices", (c) => {
    const t = source.prices();
    // The whole table, and `source` as every estimate's `prices` names the table.
    return c.json({ ...t, source: t.origin });
  });
  app.get("/api/restore-estimate", async (c) => {
    const query = restoreQuery(c.req.query());
    if (!query.snapshot) return c.json({ error: "snapshot=ID is required" }, 400);
    return c.json(await source.restoreEstimate(query));
  });

  app.get("/", async (c) => c.html(show("Cost", "/", costBody(await source.cost()))));
  app.get(
    "/snapshots",
    async (c) => c.html(show("Snapshots", "/snapshots", snapshotsBody(await source.snapshots()))),
  );
  app.get(
    "/restore-jobs",
    async (c) =>
      c.html(show("Restore jobs", "/restore-jobs", restoreJobsBody(await source.restoreJobs()))),
  );
  app.get("/prices", (c) => c.html(show("Price table", "/prices", pricesBody(source.prices()))));
  const schedules = async () => await source.schedules?.() ?? { file: "", schedules: [] };
  app.get("/api/schedules", async (c) => c.json(await schedules()));
  app.get(
    "/schedules",
    async (c) => c.html(show("Schedules", "/schedules", schedulesBody(await schedules()))),
  );
  app.get("/restore", async (c) => {
    const query = restoreQuery(c.req.query());
    const { snapshots } = await source.snapshots();
    const asked = c.req.query("snapshot") !== undefined && c.req.query("path") !== undefined;
    if (!query.snapshot) query.snapshot = snapshots[snapshots.length - 1]?.id ?? "";
    let result;
    if (asked) {
      try {
        result = { report: await source.restoreEstimate(query) };
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const body = restoreBody(snapshots, query, result);
    return c.html(
      show("Restore estimate", "/restore", body),
      result && "error" in result ? 400 : 200,
    );
  });

  app.onError((err, c) => {
    const { message } = err;
    // The request asked for something wrong, or for something that is not there.
    const code = err instanceof InvalidRequest || err.name === "ObjectNotFound" ? 400 : 500;
    if (code === 500) console.error(`permafrost serve: ${c.req.path}: ${message}`);
    return c.req.path.startsWith("/api/")
      ? c.json({ error: message }, code)
      : c.text(`${code}: ${message}\n`, code);
  });
  return app;
}

function restoreQuery(q: Record<string, string>): RestoreQuery {
  return { snapshot: q.snapshot ?? "", path: q.path || "/", tier: q.tier || DEFAULT_TIER };
}
