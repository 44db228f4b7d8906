/**
 * S3 Control's Batch Operations calls (CreateJob, DescribeJob) with the AWS SDK
 * (`@aws-sdk/client-s3-control`), for host/cold/batch_restore.ts. Credentials are the host's,
 * resolved as for the repository (host/storage/s3_location.ts); the endpoint is S3 Control's
 * in the repository's region, or `PERMAFROST_S3_CONTROL_ENDPOINT` (a test's or a proxy's).
 * moto does not implement these two calls (docs/s3.md §7).
 *
 * @module
 */

import type { BatchJobs, BatchStatus } from "../cold/batch_restore.ts";
import { type S3Target, sdkCredentials } from "../storage/s3_location.ts";

/** {@link BatchJobs} through the AWS SDK, in `target`'s region with its credentials. */
export function s3ControlJobs(
  target: S3Target,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): BatchJobs {
  const credentials = sdkCredentials(target);
  const endpoint = env("PERMAFROST_S3_CONTROL_ENDPOINT") || undefined;
  const client = import("@aws-sdk/client-s3-control").then((sdk) => ({
    sdk,
    client: new sdk.S3ControlClient({
      region: target.region,
      // A given endpoint is used as it is: without the account id the SDK puts before S3
      // Control's host name (`ACCOUNT.s3-control.REGION.amazonaws.com`).
      ...(endpoint
        ? { endpointProvider: () => ({ url: new URL(endpoint) }), disableHostPrefix: true }
        : {}),
      credentials,
    }),
  }));
  return {
    async createJob(request) {
      const { sdk, client: c } = await client;
      const out = await c.send(new sdk.CreateJobCommand(request));
      if (!out.JobId) throw new Error("S3 Control CreateJob answered no job id");
      return out.JobId;
    },
    async describeJob(account, jobId): Promise<BatchStatus> {
      const { sdk, client: c } = await client;
      const out = await c.send(new sdk.DescribeJobCommand({ AccountId: account, JobId: jobId }));
      const job = out.Job ?? {};
      const p = job.ProgressSummary;
      return {
        status: job.Status ?? "unknown",
        ...(p?.TotalNumberOfTasks !== undefined ? { total: p.TotalNumberOfTasks } : {}),
        ...(p?.NumberOfTasksSucceeded !== undefined ? { succeeded: p.NumberOfTasksSucceeded } : {}),
        ...(p?.NumberOfTasksFailed !== undefined ? { failed: p.NumberOfTasksFailed } : {}),
        ...(job.FailureReasons?.length
          ? { reasons: job.FailureReasons.map((r) => `${r.FailureCode}: ${r.FailureReason}`) }
          : {}),
      };
    },
  };
}
