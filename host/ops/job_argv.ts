/**
 * The command line an in-region job runs (docs/in-region.md): which commands may run as a job
 * ({@link jobRoles}), {@link jobArgv} rewriting the command line for the job, and the job's
 * name ({@link jobName}).
 *
 * @module
 */

import { parseS3Location, type S3Target } from "../storage/s3_location.ts";

/** The commands a job may run, and the repository role each needs (docs/s3.md §3). */
export const jobRoles: Readonly<Record<string, "reader" | "admin">> = {
  gc: "admin",
  rebuild: "admin",
  forget: "admin",
  check: "reader",
  restore: "reader",
};

/** Flags that configure the emitting, not the job: dropped from the job's command line. */
const emitFlags = [
  "--emit-job",
  "--image",
  "--job-role",
  "--cluster",
  "--subnet",
  "--security-group",
  "--launch",
  "--instance-profile",
];

/** Switches that launch the job (`--in-region`): dropped too, or the job would launch itself. */
const launchSwitches = ["--in-region", "--public-ip"];

/**
 * The command line the job runs: `argv` without the emitting flags, and its `--repo` (or
 * `repo`) rewritten to `s3://BUCKET/PREFIX?region=R` (the region as `env` resolves it, see
 * host/storage/s3_location.ts): the job's credentials come from its task role, so a `profile=`
 * is dropped; an `endpoint=` is refused (the job reads AWS's S3; an endpoint in the
 * environment is ignored). A `TypeError` for a command that is not a job, a key file (not in
 * the container), or no S3 repository.
 */
export function jobArgv(
  argv: string[],
  repo?: string,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): { argv: string[]; target: S3Target } {
  const out: string[] = [];
  let location = repo;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (emitFlags.includes(flag)) {
      value();
    } else if (launchSwitches.includes(flag)) {
      continue;
    } else if (flag === "--repo") {
      location = value();
    } else if (flag === "--key-file") {
      throw new TypeError(
        "a job cannot use --key-file (the file is not in its container): it opens the " +
          "repository with PERMAFROST_PASSWORD from its secret",
      );
    } else {
      out.push(arg);
    }
  }
  const verb = out[0];
  if (verb === undefined || jobRoles[verb] === undefined) {
    throw new TypeError(
      `"${verb ?? ""}" cannot run as an in-region job; these can: ${
        Object.keys(jobRoles).join(", ")
      }`,
    );
  }
  if (location === undefined || !location.startsWith("s3://")) {
    throw new TypeError(
      `an in-region job needs a repository on S3 (--repo s3://BUCKET/PREFIX), not ${
        location === undefined ? "none" : `"${location}"`
      }`,
    );
  }
  const query = new URLSearchParams(location.split("?")[1] ?? "");
  if (query.has("endpoint")) {
    throw new TypeError(
      `an in-region job reads Amazon S3 itself; leave "endpoint=" out of "${location}"`,
    );
  }
  const target = parseS3Location(
    location.split("?")[0] + (query.has("region") ? `?region=${query.get("region")}` : ""),
    (name) => name.startsWith("AWS_ENDPOINT_URL") ? undefined : env(name),
  );
  const base = `s3://${target.bucket}${target.prefix === "" ? "" : "/" + target.prefix}`;
  return { argv: [...out, "--repo", `${base}?region=${target.region}`], target };
}

/** `permafrost-gc-compact`: the positionals before the first flag, in letters, digits, `-`. */
export function jobName(argv: string[]): string {
  const words = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""));
  }
  return ["permafrost", ...words.filter((w) => w !== "").slice(0, 3)].join("-").slice(0, 100);
}
