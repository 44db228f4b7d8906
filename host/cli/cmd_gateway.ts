/**
 * `gateway [--repo s3://BUCKET/PREFIX?...] [--listen HOST:PORT]`: serves the append-only S3
 * gateway in front of the repository's bucket (host/gateway/, docs/gateway.md) until
 * interrupted. `--estimate [--region R] [--puts N] [--gets N]`: what running it for a month
 * costs, instead.
 *
 * `--emit-job ecs`: the ECS service that runs it in the bucket's region (service_flags.ts).
 *
 * `gateway key add NAME | key list | key remove NAME|ID`: the gateway's own access keys
 * (host/gateway/gateway_keys.ts); `add` prints the secret, once.
 *
 * @module
 */

import { priceTableOf } from "./pricing.ts";
import { gatewayMonthEstimate } from "../cost/gateway_cost.ts";
import { gatewayApp } from "../gateway/app.ts";
import { GatewayKeys } from "../gateway/gateway_keys.ts";
import type { SigningCredentials } from "../gateway/sigv4.ts";
import { stopOnSignal } from "../storage/orderly_close.ts";
import { parseS3Location, s3Credentials } from "../storage/s3_location.ts";
import { isLoopback, parseListen, serve } from "../web/serve.ts";
import { type Context, jsonOption, UsageError } from "./context.ts";
import { render } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { regionOption } from "./pricing.ts";
import { emitService, emitsJob, serviceOptions } from "./service_flags.ts";

export const gatewayOptions = {
  ...jsonOption,
  ...regionOption,
  ...serviceOptions,
  repo: { type: "string" },
  listen: { type: "string" },
  estimate: { type: "boolean" },
  puts: { type: "string" },
  gets: { type: "string" },
} as const satisfies OptionTable;

const DEFAULT_LISTEN = "127.0.0.1:9000";

export function cmdGateway(ctx: Context): Promise<number> {
  const [first, sub, arg, ...rest] = ctx.positionals;
  if (first === undefined) return ctx.bool("estimate") ? estimateGateway(ctx) : serveGateway(ctx);
  if (first !== "key") {
    throw new UsageError(`unknown gateway command "${first}": use "gateway" or "gateway key"`);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  switch (sub) {
    case "add":
      if (!arg) throw new UsageError("gateway key add needs a NAME (e.g. the machine's name)");
      return addKey(ctx, arg);
    case "list":
      if (arg) throw new UsageError(`unexpected argument "${arg}"`);
      return listKeys(ctx);
    case "remove":
      if (!arg) throw new UsageError("gateway key remove needs a NAME or access key id");
      return removeKey(ctx, arg);
  }
  throw new UsageError(
    `${sub === undefined ? "gateway key needs" : `unknown gateway key command "${sub}":`} ` +
      `add NAME, list or remove NAME`,
  );
}

async function serveGateway(ctx: Context): Promise<number> {
  const location = ctx.string("repo") || Deno.env.get("PERMAFROST_REPO");
  if (!location?.startsWith("s3://")) {
    throw new UsageError(
      "the gateway serves an S3 repository: give --repo s3://BUCKET/PREFIX (with " +
        "?endpoint=URL for another S3-compatible store)",
    );
  }
  if (emitsJob(ctx)) return emitService(ctx, "gateway", location);
  const target = parseS3Location(location);
  const { hostname, port } = parseListen(ctx.string("listen") ?? DEFAULT_LISTEN);
  const keys = new GatewayKeys();
  if ((await keys.list()).length === 0) {
    console.error(
      "warning: the gateway has no keys yet, so it refuses every request: add one with " +
        "`permafrost gateway key add NAME`",
    );
  }
  const credentials = s3Credentials(target);
  const app = gatewayApp({
    scope: { bucket: target.bucket, keyPrefix: target.keyPrefix },
    upstream: {
      target,
      credentials: () => credentials.get() as Promise<SigningCredentials>,
    },
    secretOf: (id) => keys.secretOf(id),
    onRefusal: (line) => console.error(`refused: ${line}`),
  });
  const server = await serve(app, hostname, port);
  const release = stopOnSignal(() => void server.shutdown());
  const url = server.url.replace(/\/$/, "");
  console.log(`permafrost gateway: s3://${target.bucket}/${target.prefix} at ${target.endpoint}`);
  console.log(`listening on ${url}`);
  console.log(
    `clients: --repo "s3://${target.bucket}/${target.prefix}?endpoint=${url}" with a gateway key ` +
      "as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );
  if (!isLoopback(hostname)) {
    console.error(
      `warning: listening on ${hostname} over plain HTTP: put TLS in front of it (a load ` +
        "balancer or a proxy) before clients reach it over a network you do not trust",
    );
  }
  await server.finished;
  release();
  return 0;
}

function estimateGateway(ctx: Context): Promise<number> {
  const region = ctx.string("region") ?? Deno.env.get("AWS_REGION") ?? "us-east-1";
  const count = (name: "puts" | "gets") => {
    const text = ctx.string(name);
    if (text === undefined) return 0;
    if (!/^\d+$/.test(text)) throw new UsageError(`--${name} is a whole number of requests`);
    return Number(text);
  };
  const table = priceTableOf(region);
  const e = gatewayMonthEstimate(table, { puts: count("puts"), gets: count("gets") });
  ctx.print(
    { estimate: e },
    () =>
      render("the gateway for a month (Fargate service, 0.5 vCPU, 1 GB)", e, table) +
      "\nnote: requests are the backups' own and cost the same without the gateway; a load " +
      "balancer or public IPv4 address in front of the task is billed separately",
  );
  return Promise.resolve(0);
}

async function addKey(ctx: Context, name: string): Promise<number> {
  const key = await new GatewayKeys().add(name);
  ctx.print(
    { id: key.id, name: key.name, created: key.created, secret: key.secret },
    () =>
      [
        `gateway key "${key.name}" added; the secret is shown only now:`,
        `AWS_ACCESS_KEY_ID=${key.id}`,
        `AWS_SECRET_ACCESS_KEY=${key.secret}`,
      ].join("\n"),
  );
  return 0;
}

async function listKeys(ctx: Context): Promise<number> {
  const keys = await new GatewayKeys().list();
  ctx.print(
    { keys },
    () =>
      keys.length === 0
        ? "no gateway keys (add one with `permafrost gateway key add NAME`)"
        : keys.map((k) => `${k.id}  ${k.name}  created ${k.created}`).join("\n"),
  );
  return 0;
}

async function removeKey(ctx: Context, nameOrId: string): Promise<number> {
  const gone = await new GatewayKeys().remove(nameOrId);
  ctx.print(
    { removed: gone },
    () => `gateway key "${gone.name}" (${gone.id}) removed; requests signed with it are refused`,
  );
  return 0;
}
