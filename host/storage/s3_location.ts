/**
 * `s3://BUCKET[/PREFIX][?OPTIONS]`: a repository in an S3 bucket, served by the `s3` storage
 * plugin (docs/s3.md). This file turns such a location into the plugin's start: where to
 * connect, the one `host:port` its worker may reach (`$endpoint`), and the host capability
 * that hands it credentials.
 *
 * Options, each also taken from the environment the way the AWS SDK and CLI take it:
 *
 * | option | else | else |
 * |---|---|---|
 * | `region=NAME` | `AWS_REGION`, then `AWS_DEFAULT_REGION` | `us-east-1` |
 * | `endpoint=URL` | `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL` | `https://s3.REGION.amazonaws.com` (`.com.cn` in China) |
 * | `path-style=true\|false` | | path-style for an IP or `localhost` endpoint, and for a bucket name with dots; else virtual-hosted (`BUCKET.host`) |
 * | `profile=NAME` | `AWS_PROFILE` | the standard chain (env keys, `~/.aws` files, SSO, web identity, container or instance role) |
 *
 * A profile's own `region` or `endpoint_url` in `~/.aws/config` is not read: give them as
 * options. Credentials are resolved in the host only (never in the worker), on first use,
 * and refreshed by the SDK's chain when they expire.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { CapabilityImpl } from "../plugin/sandbox.ts";
import { type Partition, type S3Location, s3Location } from "../s3/location.ts";
import type { PluginStart, SchemeOpener } from "./schemes.ts";

/** A parsed and resolved S3 location: the bucket and prefix, and how to reach them. */
export interface S3Target extends S3Location {
  region: string;
  /** The endpoint URL the SDK is given (without the bucket). */
  endpoint: string;
  /** Whether the bucket goes in the path (`host/BUCKET/key`) instead of the host name. */
  pathStyle: boolean;
  /** The named profile from the location, if any (else the chain's own choice). */
  profile?: string;
  /** The one `host:port` the plugin connects to: its `$endpoint` permission. */
  netHost: string;
}

/** Reads one environment variable (`Deno.env.get` by default). */
export type EnvLookup = (name: string) => string | undefined;

const OPTIONS = ["region", "endpoint", "path-style", "profile"];

/**
 * Parses `location` (`s3://BUCKET/PREFIX?OPTIONS`) and resolves region, endpoint and
 * addressing from its options and `env` (see the module doc). Throws `TypeError` (an
 * `S3InputError` for a bad bucket or prefix) quoting what to change.
 */
export function parseS3Location(
  location: string,
  env: EnvLookup = (name) => Deno.env.get(name),
): S3Target {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(location);
  if (!m) {
    throw new TypeError(`storage location "${location}" is not s3://BUCKET/PREFIX[?OPTIONS]`);
  }
  const [, bucket, path = "", query = ""] = m;
  const options = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(query)) {
    if (!OPTIONS.includes(key)) {
      throw new TypeError(
        `storage location "${location}" has an unknown option "${key}" (known: ${
          OPTIONS.join(", ")
        })`,
      );
    }
    if (options.has(key)) {
      throw new TypeError(`storage location "${location}" gives option "${key}" twice`);
    }
    options.set(key, value);
  }
  const region = options.get("region") || env("AWS_REGION") || env("AWS_DEFAULT_REGION") ||
    "us-east-1";
  if (!/^[a-z]{2}(-[a-z0-9]+)+$/.test(region)) {
    throw new TypeError(`storage location "${location}": region "${region}" is not an AWS region`);
  }
  const partition: Partition = region.startsWith("cn-")
    ? "aws-cn"
    : region.startsWith("us-gov-")
    ? "aws-us-gov"
    : "aws";
  const where = s3Location(bucket, decodeURIComponent(path), partition);
  const endpoint = options.get("endpoint") || env("AWS_ENDPOINT_URL_S3") ||
    env("AWS_ENDPOINT_URL") ||
    `https://s3.${region}.amazonaws.com${partition === "aws-cn" ? ".cn" : ""}`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`storage location "${location}": endpoint "${endpoint}" is not a URL`);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password ||
    url.search || url.hash
  ) {
    throw new TypeError(
      `storage location "${location}": endpoint "${endpoint}" must be http(s)://HOST[:PORT]`,
    );
  }
  const style = options.get("path-style");
  if (style !== undefined && style !== "true" && style !== "false") {
    throw new TypeError(`storage location "${location}": "path-style" must be true or false`);
  }
  const host = url.hostname;
  const pathStyle = style !== undefined
    ? style === "true"
    : isIp(host) || host === "localhost" || host.endsWith(".localhost") || bucket.includes(".");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const profile = options.get("profile") || undefined;
  return {
    ...where,
    region,
    endpoint: url.href.replace(/\/$/, ""),
    pathStyle,
    ...(profile === undefined ? {} : { profile }),
    netHost: `${pathStyle ? host : `${bucket}.${host}`}:${port}`,
  };
}

/** The SDK's credential chain (a type only: the SDK is loaded on first use). */
type CredentialChain = ReturnType<
  typeof import("@aws-sdk/credential-provider-node")["defaultProvider"]
>;

/** What the host's `credentials` capability answers the plugin (see plugins/storage/s3/mod.ts). */
export interface WireCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: string;
}

/**
 * The `credentials` capability for `target`: `get()` resolves the AWS credential chain (or
 * the target's profile) in the host, memoized and refreshed before expiry. When none can be
 * found it rejects with an `Error` saying how to provide them; no message carries a secret.
 */
export function s3Credentials(target: S3Target): CapabilityImpl {
  // The SDK's chain is loaded on first use, so that a command on a local repository does not
  // pay for loading it (docs/bench.md "Start-up (issue #16)").
  const options = target.profile === undefined ? {} : { profile: target.profile };
  let provider: Promise<CredentialChain> | undefined;
  return {
    async get(): Promise<WireCredentials> {
      provider ??= import("@aws-sdk/credential-provider-node").then((sdk) =>
        sdk.defaultProvider(options)
      );
      const resolve = await provider;
      let c;
      try {
        c = await resolve();
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new Error(
          `no AWS credentials for bucket "${target.bucket}" (${why}): set AWS_ACCESS_KEY_ID and ` +
            `AWS_SECRET_ACCESS_KEY, or name a profile (AWS_PROFILE, or "?profile=NAME" in the ` +
            `location) from ~/.aws/credentials or ~/.aws/config`,
        );
      }
      const out: WireCredentials = {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
      };
      if (c.sessionToken) out.sessionToken = c.sessionToken;
      if (c.expiration) out.expiration = c.expiration.toISOString();
      return out;
    },
  };
}

/**
 * The same credentials as an AWS SDK client's `credentials` option (its `expiration` a `Date`),
 * for the host's own clients (ECS, CloudWatch Logs, S3 Control, the guard's S3).
 */
export function sdkCredentials(target: S3Target): () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}> {
  const credentials = s3Credentials(target);
  return async () => {
    const c = await credentials.get() as WireCredentials;
    return { ...c, expiration: c.expiration ? new Date(c.expiration) : undefined };
  };
}

/** The `s3` plugin's folder. */
export const s3PluginDir = fileURLToPath(new URL("../../plugins/storage/s3/", import.meta.url));

/**
 * The plugin start for an S3 location (the `s3` entry of `storageSchemes`): plugin `s3`,
 * `$endpoint` = `target.netHost`, the config `plugins/storage/s3/mod.ts` reads, and the
 * `credentials` capability. `create` needs nothing here: the bucket must exist (the plugin's
 * `init` checks it).
 */
export function s3PluginStart(
  location: string,
  env: EnvLookup = (name) => Deno.env.get(name),
): PluginStart {
  const target = parseS3Location(location, env);
  // Internal, for tests: a smaller upload rule (5 MiB at least), so that a test file of a few
  // MiB goes up in parts.
  const part = env("PERMAFROST_S3_PART_SIZE");
  return {
    name: "s3",
    vars: { $endpoint: [target.netHost] },
    config: {
      bucket: target.bucket,
      keyPrefix: target.keyPrefix,
      region: target.region,
      endpoint: target.endpoint,
      pathStyle: target.pathStyle,
      ...(part ? { multipartThreshold: Number(part), partSize: Number(part) } : {}),
    },
    capabilities: { credentials: s3Credentials(target) },
    properties: { coldStates: true, billedRegion: target.region, versions: true, pieces: true },
  };
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
}

/** The `s3:` entry of `storageSchemes` (`schemes.ts`): see {@link s3PluginStart}. */
export const openS3: SchemeOpener = (_rest, { location }) =>
  Promise.resolve(s3PluginStart(location));
