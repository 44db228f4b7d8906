/**
 * Uploads in pieces to a local folder repository through an ingest (put-only) role handle:
 * the pieces words give that role nothing `create` does not (docs/security.md roles,
 * docs/plugins.md §5.1): a pack goes in, the config cannot, and a pack's name holding other
 * bytes is never replaced.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex } from "../host/crypto/hash.ts";
import { layout } from "../host/repository/layout.ts";
import { openStorage } from "../host/storage/open.ts";
import type { Storage } from "../host/storage/storage.ts";
import { CapabilityRefused, ObjectExists } from "../plugins/sdk/errors.ts";
import { randomBytes, tempDir } from "./helpers.ts";

/** Stores `data` as `name` through `s` in two pieces. */
async function upload(s: Storage, name: string, data: Uint8Array): Promise<void> {
  const id = await s.startUpload!(name, { size: data.length, sha256: sha256Hex(data) });
  try {
    const half = data.length >> 1;
    await s.writeUpload!(id, data.slice(0, half));
    await s.writeUpload!(id, data.slice(half));
    await s.finishUpload!(id);
  } catch (e) {
    await s.abortUpload!(id);
    throw e;
  }
}

Deno.test("an ingest handle on a local folder stores a pack in pieces, is refused the config, and cannot replace a pack holding other bytes", async () => {
  const dir = await tempDir();
  const repo = join(dir, "repo");
  const admin = await openStorage(repo, "admin", { create: true });
  const ingest = await openStorage(repo, "ingest");
  try {
    const pack = randomBytes(100_000, 1);
    const name = layout.pack(sha256Hex(pack));
    await upload(ingest, name, pack);
    assert.deepEqual(await admin.read(name), pack);

    await assert.rejects(upload(ingest, "config", randomBytes(100, 2)), CapabilityRefused);
    assert.equal(await admin.stat("config"), null);

    // The same name with other bytes (declared honestly): refused, the pack left as it was.
    await assert.rejects(upload(ingest, name, randomBytes(100_000, 3)), ObjectExists);
    assert.deepEqual(await admin.read(name), pack);
    assert.deepEqual([...Deno.readDirSync(join(repo, "tmp"))], []);
  } finally {
    await ingest.close();
    await admin.close();
  }
});
