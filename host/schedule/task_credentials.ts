/**
 * The S3 credentials of a scheduled task (docs/schedules.md "S3 credentials"): the daemon
 * resolves the task's one profile (`schedule add --aws-profile NAME`) from the shared AWS files
 * itself, at each run, and hands the subprocess only that profile's keys, as
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. The subprocess may not
 * read `~/.aws` at all, so it never sees another profile (an admin's `[default]`, say); with
 * keys in its environment and no `AWS_PROFILE`, the SDK's chain in its host takes them first
 * (host/storage/s3_location.ts).
 *
 * @module
 */

import type { EnvLookup } from "../storage/s3_location.ts";

/** Whether `location` is an S3 repository, whose tasks need `--aws-profile`. */
export function isS3Repository(location: string): boolean {
  return /^s3:/i.test(location);
}

/**
 * The environment variables holding `profile`'s credentials, read from the files `env` names
 * (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, else `~/.aws/credentials` and
 * `~/.aws/config`), read again at each call. A profile that assumes a role or uses SSO is
 * resolved too (its temporary keys come with a session token). A profile that cannot be
 * resolved is an Error saying how to set one up; no message carries a secret.
 */
export async function profileCredentials(
  profile: string,
  env: EnvLookup,
): Promise<Record<string, string>> {
  const { fromIni } = await import("@aws-sdk/credential-provider-ini");
  const files = {
    ...(env("AWS_SHARED_CREDENTIALS_FILE") ? { filepath: env("AWS_SHARED_CREDENTIALS_FILE") } : {}),
    ...(env("AWS_CONFIG_FILE") ? { configFilepath: env("AWS_CONFIG_FILE") } : {}),
  };
  let c;
  try {
    c = await fromIni({ profile, ignoreCache: true, ...files })();
  } catch (err) {
    throw new Error(
      `AWS profile "${profile}" cannot be resolved (${(err as Error).message}): put the ` +
        "role's own keys under that name in ~/.aws/credentials (`aws configure --profile " +
        `${profile}\`; the ingest policy is in docs/s3.md §3)`,
    );
  }
  return {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
  };
}
