/**
 * The `s3` storage plugin: a repository in an S3 bucket under a key prefix (see `s3_store.ts`
 * for how it keeps the Storage contract).
 *
 * Config: see `s3_config.ts`.
 *
 * Sandbox: the worker may connect only to `$endpoint`, the `host:port` the host computed for
 * this bucket (so it cannot talk to any other host, nor to the instance metadata service). It
 * holds no credentials of its own: the AWS SDK asks the host's `credentials` capability (one
 * method, `get`), which resolves the standard AWS chain or a named profile in the host and
 * answers `{ accessKeyId, secretAccessKey, sessionToken?, expiration? }`; the SDK keeps them
 * until five minutes before `expiration`. It may not read files: the SDK's reads of
 * `~/.aws/config` fail quietly, and everything those files could set is passed in here. The
 * env names in `plugin.json` are the ones the SDK reads unconditionally (measured on
 * `@aws-sdk/client-s3` 3.1175.0 under Deno 2.9.6; a missing one throws `NotCapable` at load);
 * `sys: osRelease` is for its user agent. `sys: ca` and env `NODE_USE_SYSTEM_CA` are what
 * Deno's TLS reads on each HTTPS request when `NODE_EXTRA_CA_CERTS` is set (the trusted CA
 * certificates; Deno reads that file itself). Nothing here logs, and no error message carries
 * a credential.
 *
 * @module
 */

import { S3Client } from "@aws-sdk/client-s3";
import { release, servePlugin } from "../../sdk/storage.ts";
import { checkConfig } from "./s3_config.ts";
import { S3Store } from "./s3_store.ts";
import type { UploadStart } from "./streamed_upload.ts";
import {
  deleteVersion,
  listVersions,
  putVersion,
  readVersion,
  statVersion,
  versioning,
} from "./versions.ts";

/** What the host's `credentials` capability answers. */
interface WireCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** ISO 8601; absent for long-term keys. */
  expiration?: string;
}

servePlugin((ctx) => {
  const c = checkConfig(ctx.config);
  const client = new S3Client({
    region: c.region,
    endpoint: c.endpoint,
    forcePathStyle: c.pathStyle,
    credentials: async () => {
      const w = await ctx.capability("credentials").call<WireCredentials>("get");
      return {
        accessKeyId: w.accessKeyId,
        secretAccessKey: w.secretAccessKey,
        sessionToken: w.sessionToken,
        expiration: w.expiration === undefined ? undefined : new Date(w.expiration),
      };
    },
    maxAttempts: 1, // retry.ts is the one retry layer
    // The store sends its own SHA-256 with every upload; nothing else needs checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // In @smithy/node-http-handler 4.14, `requestTimeout` bounds a whole request and only logs
    // a warning: 10 minutes lets a 96 MiB PutObject (the upload rule's largest request) go
    // unremarked down to about 1.3 Mbit/s. `socketTimeout` would end a stalled connection, but
    // under Deno it counts only bytes read as activity and ends uploads still sending
    // (measured: a 5 MiB PUT at 1 MB/s ended after 2 s of `socketTimeout: 2000`).
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 600_000 },
  });
  const store = new S3Store(client, {
    bucket: c.bucket,
    keyPrefix: c.keyPrefix,
    retry: c.retry,
    upload: { multipartThreshold: c.multipartThreshold, partSize: c.partSize },
    partConcurrency: c.partConcurrency,
  });
  return {
    init: () => store.init(),
    // The bytes were moved here by the host: free them once stored.
    create: (
      name: string,
      data: Uint8Array,
      options?: { storageClass?: string; label?: string },
    ) => store.create(name, data, options).finally(() => release(data)),
    read: (name: string, range?: { offset: number; length: number }) => store.read(name, range),
    stat: (name: string) => store.stat(name),
    list: (prefix: string) => store.list(prefix),
    requestRestore: (name: string, options: { tier: string; days: number; version?: string }) =>
      store.requestRestore(name, options),
    delete: (name: string, options?: { versions?: boolean }) => store.delete(name, options),
    strays: () => store.strays(),
    removeStray: (name: string) => store.removeStray(name),
    versioning: () => versioning(store.versions),
    putVersion: (name: string, data: Uint8Array, options?: { storageClass?: string }) =>
      putVersion(store.versions, name, data, options).finally(() => release(data)),
    readVersion: (name: string, version: string, range?: { offset: number; length: number }) =>
      readVersion(store.versions, name, version, range),
    statVersion: (name: string, version: string) => statVersion(store.versions, name, version),
    listVersions: (prefix: string) => listVersions(store.versions, prefix),
    deleteVersion: (name: string, version: string) => deleteVersion(store.versions, name, version),
    startUpload: (name: string, start: UploadStart) => store.streamed.start(name, start),
    // Copied into the part being filled: free the moved piece.
    writeUpload: (id: string, data: Uint8Array) =>
      store.streamed.write(id, data).finally(() => release(data)),
    finishUpload: (id: string) => store.streamed.finish(id),
    abortUpload: (id: string) => store.streamed.abort(id),
  };
});
