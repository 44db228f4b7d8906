import assert from "node:assert/strict";
import { join } from "node:path";
import { profileCredentials } from "./task_credentials.ts";

/** Shared AWS files with an admin `[default]` and a `pf-ingest` profile, and their lookup. */
async function awsFiles() {
  const dir = await Deno.makeTempDir({ prefix: "pf-aws-" });
  const credentials = join(dir, "credentials");
  const config = join(dir, "config");
  await Deno.writeTextFile(
    credentials,
    "[default]\naws_access_key_id = ADMINKEY\naws_secret_access_key = admin-secret\n\n" +
      "[pf-ingest]\naws_access_key_id = INGESTKEY\naws_secret_access_key = ingest-secret\n",
  );
  await Deno.writeTextFile(config, "[default]\nregion = us-east-1\n");
  const vars: Record<string, string> = {
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: config,
  };
  return { dir, credentials, env: (n: string) => vars[n] };
}

Deno.test("a task's profile resolves to that profile's keys alone, never the default's", async () => {
  const aws = await awsFiles();
  try {
    assert.deepEqual(await profileCredentials("pf-ingest", aws.env), {
      AWS_ACCESS_KEY_ID: "INGESTKEY",
      AWS_SECRET_ACCESS_KEY: "ingest-secret",
    });
    // Read again at each run: a rotated key is seen without restarting the daemon.
    await Deno.writeTextFile(
      aws.credentials,
      "[pf-ingest]\naws_access_key_id = ROTATED\naws_secret_access_key = rotated-secret\n",
    );
    assert.equal((await profileCredentials("pf-ingest", aws.env)).AWS_ACCESS_KEY_ID, "ROTATED");
  } finally {
    await Deno.remove(aws.dir, { recursive: true });
  }
});

Deno.test("a profile that is not in the files is refused with how to set one up", async () => {
  const aws = await awsFiles();
  try {
    await assert.rejects(
      profileCredentials("pf-missing", aws.env),
      (err: Error) => {
        assert.match(err.message, /^AWS profile "pf-missing" cannot be resolved \(/);
        assert.match(err.message, /aws configure --profile pf-missing.*docs\/s3\.md §3/);
        assert.doesNotMatch(err.message, /admin-secret|ingest-secret/);
        return true;
      },
    );
  } finally {
    await Deno.remove(aws.dir, { recursive: true });
  }
});
