/**
 * `permafrost`: parses the command line, runs one command, prints, and sets the exit status.
 * Thin by design: every command is a `cmd_<verb>.ts` calling the library.
 *
 * Exit status: 0 ok; 1 failure (or `diff` found differences); 2 usage; 3 `check` found problems;
 * 4 waiting for packs to come out of cold storage (`restore`, whose job was saved; `check
 * --read-data-subset`, `gc compact` and `rebuild`, which are run again).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Context, UsageError } from "./context.ts";
import { cmdBackup } from "./cmd_backup.ts";
import { cmdCat } from "./cmd_cat.ts";
import { cmdCheck } from "./cmd_check.ts";
import { cmdDiff } from "./cmd_diff.ts";
import { cmdFind } from "./cmd_find.ts";
import { cmdInit } from "./cmd_init.ts";
import { cmdKey } from "./cmd_key.ts";
import { cmdLs } from "./cmd_ls.ts";
import { cmdRestore } from "./cmd_restore.ts";
import { cmdS3 } from "./cmd_s3.ts";
import { cmdSnapshots } from "./cmd_snapshots.ts";
import { cmdEstimate } from "./cmd_estimate.ts";
import { cmdCost } from "./cmd_cost.ts";
import { cmdServe } from "./cmd_serve.ts";
import { cmdPrices } from "./cmd_prices.ts";
import { cmdForget } from "./cmd_forget.ts";
import { cmdRebuild } from "./cmd_rebuild.ts";
import { cmdGc } from "./cmd_gc.ts";
import { explain } from "./explain.ts";

const commands: Record<string, (ctx: Context) => Promise<number>> = {
  init: cmdInit,
  key: cmdKey,
  backup: cmdBackup,
  snapshots: cmdSnapshots,
  ls: cmdLs,
  restore: cmdRestore,
  find: cmdFind,
  diff: cmdDiff,
  cat: cmdCat,
  check: cmdCheck,
  s3: cmdS3,
  estimate: cmdEstimate,
  cost: cmdCost,
  serve: cmdServe,
  prices: cmdPrices,
  forget: cmdForget,
  rebuild: cmdRebuild,
  gc: cmdGc,
};

const options = {
  repo: { type: "string" },
  "key-file": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  tag: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "dry-run": { type: "boolean" },
  host: { type: "string" },
  target: { type: "string" },
  out: { type: "string" },
  content: { type: "boolean" },
  "read-data": { type: "boolean" },
  "pack-size": { type: "string" },
  "locality-floor": { type: "string" },
  "kdf-memlimit": { type: "string" },
  "cold-class": { type: "string" },
  tier: { type: "string" },
  days: { type: "string" },
  wait: { type: "boolean" },
  poll: { type: "string" },
  resume: { type: "string" },
  role: { type: "string" },
  bucket: { type: "string" },
  prefix: { type: "string" },
  partition: { type: "string" },
  "bucket-policy": { type: "boolean" },
  versioned: { type: "boolean" },
  "bypass-governance": { type: "boolean" },
  "admin-principal": { type: "string", multiple: true },
  "ingest-principal": { type: "string", multiple: true },
  size: { type: "string" },
  "object-size": { type: "string" },
  class: { type: "string" },
  months: { type: "string" },
  to: { type: "string" },
  "age-days": { type: "string" },
  region: { type: "string" },
  "free-egress": { type: "string" },
  "part-size": { type: "string" },
  estimate: { type: "boolean" },
  budget: { type: "string" },
  yes: { type: "boolean", short: "y" },
  listen: { type: "string" },
  token: { type: "string" },
  path: { type: "string", multiple: true },
  "keep-last": { type: "string" },
  "keep-hourly": { type: "string" },
  "keep-daily": { type: "string" },
  "keep-weekly": { type: "string" },
  "keep-monthly": { type: "string" },
  "keep-yearly": { type: "string" },
  "keep-within": { type: "string" },
  "keep-tag": { type: "string", multiple: true },
  "read-data-subset": { type: "string" },
  threshold: { type: "string" },
  horizon: { type: "string" },
  "accept-early-fee": { type: "boolean" },
  all: { type: "boolean" },
  grace: { type: "string" },
  "emit-job": { type: "string" },
  image: { type: "string" },
  "job-role": { type: "string" },
} as const;

export async function main(argv: string[]): Promise<number> {
  let verb: string | undefined;
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    verb = parsed.positionals[0];
    if (!verb || verb === "help") {
      console.log(help(parsed.positionals[1] ?? "permafrost"));
      return verb ? 0 : parsed.values.help ? 0 : 2;
    }
    const command = commands[verb];
    if (!command) throw new UsageError(`unknown command "${verb}"`);
    if (parsed.values.help) {
      console.log(help(verb));
      return 0;
    }
    const ctx = new Context(parsed.positionals.slice(1), parsed.values);
    try {
      return await command(ctx);
    } finally {
      ctx.reportWarnings();
    }
  } catch (err) {
    const { message, status } = explain(err);
    console.error(`permafrost: ${message}`);
    if (status === 2) {
      console.error(`run "permafrost ${verb && commands[verb] ? verb + " " : ""}--help" for usage`);
    }
    if (Deno.env.get("PERMAFROST_DEBUG") && err instanceof Error) console.error(err.stack);
    return status;
  }
}

function help(topic: string): string {
  try {
    return Deno.readTextFileSync(new URL(`../../docs/cli/${topic}.txt`, import.meta.url)).trimEnd();
  } catch {
    return `no help for "${topic}"; commands: ${Object.keys(commands).join(", ")}`;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
