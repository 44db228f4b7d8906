/**
 * The S3 set-up the moto tests share: one moto for the test module (test/rig/moto.ts), the
 * test's own S3 client on it, fresh buckets (versioned if asked), and the environment of a CLI
 * run on a repository in one.
 *
 * @module
 */

import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { awsEnv } from "../helpers.ts";
import { type Moto, startMoto } from "../rig/moto.ts";
import { randomId } from "../storage_conformance.ts";

/** The access keys the tests use: moto without IAM enforcement accepts any. */
export const MOTO_KEYS = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };

/** The environment of a CLI run against moto with {@link MOTO_KEYS}. */
export type MotoEnv = Awaited<ReturnType<typeof awsEnv>>;

/** A fresh bucket and a repository location in it. */
export interface MotoBucket {
  bucket: string;
  /** `s3://BUCKET/PREFIX`. */
  location: string;
  /** A CLI run's environment with `PERMAFROST_REPO` set to {@link location}. */
  env: MotoEnv & { PERMAFROST_REPO: string };
}

/** One moto for the test module, and what the tests do on it. */
export interface MotoS3 {
  moto: Moto;
  /** The test's own client (path-style, us-east-1, {@link MOTO_KEYS}), outside the CLI. */
  s3: S3Client;
  /**
   * Creates a bucket with a random name; with `versioning`, turns versioning on (and, for
   * "Suspended", then suspends it, as a bucket once versioned is).
   */
  newBucket(
    prefix: string,
    options?: { versioning?: "Enabled" | "Suspended" },
  ): Promise<MotoBucket>;
  /** A CLI run's environment (fresh cache and state folders), on `location` if given. */
  env(location?: string): Promise<MotoEnv>;
}

/** Starts moto for this test module; it is killed when the module's process ends. */
export async function moduleMoto(options: { env?: Record<string, string> } = {}): Promise<Moto> {
  const moto = await startMoto(options);
  addEventListener("unload", () => moto.kill());
  return moto;
}

/** Starts moto for this test module (see {@link moduleMoto}) with a client and bucket maker. */
export async function motoS3(): Promise<MotoS3> {
  const moto = await moduleMoto();
  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: MOTO_KEYS,
  });
  const env = async (location?: string): Promise<MotoEnv> => ({
    ...await awsEnv(moto.endpoint),
    AWS_ACCESS_KEY_ID: MOTO_KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_KEYS.secretAccessKey,
    ...location === undefined ? {} : { PERMAFROST_REPO: location },
  });
  const setVersioning = (Bucket: string, Status: "Enabled" | "Suspended") =>
    s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));
  return {
    moto,
    s3,
    env,
    async newBucket(prefix, options = {}) {
      const bucket = `pf-${randomId().slice(0, 20)}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (options.versioning) await setVersioning(bucket, "Enabled");
      if (options.versioning === "Suspended") await setVersioning(bucket, "Suspended");
      const location = `s3://${bucket}/${prefix}`;
      return { bucket, location, env: { ...await env(), PERMAFROST_REPO: location } };
    },
  };
}

/**
 * A subnet of moto's default VPC in `region`, through EC2's query API (moto does not check the
 * signature, only reads the region from it).
 */
export async function defaultSubnet(moto: Moto, region = "us-east-1"): Promise<string> {
  const r = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=permafrost-test/20261207/${region}/ec2/` +
        "aws4_request, SignedHeaders=host, Signature=0",
    },
    body: "Action=DescribeSubnets&Version=2016-11-15",
  });
  const text = await r.text();
  const id = /<subnetId>(subnet-[0-9a-f]+)<\/subnetId>/.exec(text)?.[1];
  if (!id) throw new Error(`moto's DescribeSubnets named no subnet: ${text.slice(0, 300)}`);
  return id;
}
