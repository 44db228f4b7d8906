/**
 * `guard --repo s3://BUCKET/PREFIX [--dry-run | --estimate] [--json]`: one run of the
 * versioned-bucket guard (host/ops/guard.ts, docs/s3.md §5): every key under the prefix that
 * was overwritten or deleted gets its oldest version back. With admin credentials (the
 * standard AWS chain, or `?profile=` in the location); no passphrase, nothing decrypted.
 * `--emit-job ecs`: the scheduled ECS task that runs it hourly in the bucket's region
 * (service_flags.ts). Exit status 0 when nothing was left to undo, 1 when an undo failed.
 *
 * @module
 */

import { S3Client } from "@aws-sdk/client-s3";
import { guardRunEstimate } from "../cost/gateway_cost.ts";
import { executeGuard, type GuardOutcome, type GuardPlan, planGuard } from "../ops/guard.ts";
import { parseS3Location, sdkCredentials } from "../storage/s3_location.ts";
import { type Context, jsonOption, plural, printable, UsageError } from "./context.ts";
import { render } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { priceTableOf } from "./pricing.ts";
import { emitService, emitsJob, serviceOptions } from "./service_flags.ts";

export const guardOptions = {
  ...jsonOption,
  ...serviceOptions,
  repo: { type: "string" },
  "dry-run": { type: "boolean" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

export async function cmdGuard(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const location = ctx.string("repo") || Deno.env.get("PERMAFROST_REPO");
  if (!location?.startsWith("s3://")) {
    throw new UsageError("the guard watches an S3 bucket: give --repo s3://BUCKET/PREFIX");
  }
  if (emitsJob(ctx)) return emitService(ctx, "guard", location);
  const target = parseS3Location(location);
  const client = new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.pathStyle,
    credentials: sdkCredentials(target),
  });
  try {
    const plan = await planGuard(client, { bucket: target.bucket, keyPrefix: target.keyPrefix });
    if (ctx.bool("estimate")) {
      const table = priceTableOf(target.region);
      const deletes = plan.changes.reduce((n, c) => n + c.remove.length, 0);
      const e = guardRunEstimate(table, { listPages: plan.listPages, deletes });
      ctx.print(
        { estimate: e, plan },
        () => render("one run of the guard (its listing is already made)", e, table),
      );
      return 0;
    }
    if (ctx.bool("dry-run")) {
      ctx.print({ dryRun: true, ...plan }, () => planText(plan, true));
      return 0;
    }
    const outcomes = await executeGuard(client, plan);
    const failed = outcomes.filter((o) => o.error !== undefined);
    ctx.print({ ...plan, outcomes }, () => planText(plan, false, outcomes));
    return failed.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

function planText(plan: GuardPlan, dryRun: boolean, outcomes: GuardOutcome[] = []): string {
  const where = `s3://${plan.bucket}/${plan.keyPrefix}`;
  const lines = [
    `listed ${plural(plan.versions, "version")} under ${where} ` +
    `(${plural(plan.listPages, "request")})`,
  ];
  if (plan.changes.length === 0) lines.push("nothing to undo: no key was overwritten or deleted");
  for (const change of plan.changes) {
    const outcome = outcomes.find((o) => o.key === change.key);
    const verb = dryRun ? "would restore" : outcome?.error ? "FAILED to restore" : "restored";
    lines.push(
      `${printable(change.key)}: ${change.kind}; ${verb} version ${change.keep.versionId} of ` +
        `${change.keep.lastModified} by removing ${
          change.remove.map((e) => `${e.deleteMarker ? "delete marker" : "version"} ${e.versionId}`)
            .join(", ")
        }` + (outcome?.error ? ` (${outcome.error})` : ""),
    );
  }
  if (plan.markersOnly.length > 0) {
    lines.push(
      `left alone: ${plural(plan.markersOnly.length, "key")} with delete markers only ` +
        `(nothing to restore): ${plan.markersOnly.slice(0, 5).map(printable).join(", ")}` +
        (plan.markersOnly.length > 5 ? ", ..." : ""),
    );
  }
  if (plan.mirrorKeys.length > 0) {
    lines.push(
      `left alone: ${plural(plan.mirrorKeys.length, "key")} under mirror/ (sync keeps its ` +
        `versions there, and its snapshots name them): ` +
        plan.mirrorKeys.slice(0, 5).map(printable).join(", ") +
        (plan.mirrorKeys.length > 5 ? ", ..." : ""),
    );
  }
  if (dryRun && plan.changes.length > 0) lines.push("dry run: nothing was changed");
  return lines.join("\n");
}
