import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { newRepo, PASSWORD, randomBytes, reopen, tempDir } from "../../test/helpers.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { encodeIndexSegment } from "../repository/index_segment.ts";
import { encodeKeyExport } from "../repository/keyfile.ts";
import { toIngestKeys } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import { PACK_TRAILER_LENGTH, packTrailer, PackWriter } from "../repository/pack.ts";
import type { Repository } from "../repository/repository.ts";
import { encodeDetails, encodeSnapshot, type SnapshotManifest } from "../repository/snapshot.ts";
import { backup } from "./backup.ts";
import { dateSnapshots, HEADER_FIRST_BYTES } from "./snapshot_dates.ts";

/** When the honest backup's packs were stored, and (later) its manifest: set on the files. */
const PACKS_AT = new Date("2025-01-01T10:00:00.000Z");
const MANIFEST_AT = new Date("2025-01-01T11:00:00.000Z");

/** The local store's time of an object is its file's mtime (packs are fanned out by id). */
function setStoreTime(dir: string, name: string, at: Date): void {
  const id = name.slice(name.indexOf("/") + 1);
  const path = name.startsWith("packs/") ? join(dir, "packs", id.slice(0, 2), id) : join(dir, name);
  fs.utimesSync(path, at, at);
}

/**
 * A repository with one honest snapshot whose packs the store received on `PACKS_AT` and whose
 * manifest it received on `MANIFEST_AT` (as after a rebuild, later than its packs), and the same
 * repository opened with an ingest key: the attacker. Its data pack holds `dataBytes` of data.
 */
async function honestThenIngest(dataBytes = 20_000) {
  const { dir, repo, cacheDir } = await newRepo({ dataSize: 4 << 20 });
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "honest content\n");
  fs.writeFileSync(join(src, "b.bin"), randomBytes(dataBytes));
  const honest = await backup(repo, { paths: [src], cacheDir, host: "laptop" });
  for (const o of await repo.storage.list(layout.prefixes.pack)) {
    setStoreTime(dir, o.name, PACKS_AT);
  }
  setStoreTime(dir, layout.snapshot(honest.id!), MANIFEST_AT);
  await repo.loadIndex();
  const dataPack = [...repo.index.packs()].find((p) => !p.metadata)!;
  const keyFile = encodeKeyExport(toIngestKeys(repo.keys), repo.config.id);
  await repo.storage.close();
  const ingest = await reopen(dir, { keyFile }, "ingest");
  return {
    dir,
    honest: { id: honest.id!, manifest: honest.manifest },
    dataPack: { id: dataPack.id, length: dataPack.length },
    ingest,
  };
}

/** What an ingest client can make: a metadata pack holding a details blob of its own. */
function forgedDetailsPack(ingest: Repository, manifest: Omit<SnapshotManifest, "details">) {
  const details = encodeDetails({ version: 1, manifest, skipped: [] });
  const id = blobId(ingest.keys.macKey, details);
  const w = new PackWriter({
    publicKey: ingest.keys.publicKey,
    metadata: true,
    frameSize: 1 << 16,
    level: 3,
  });
  w.add(id, "snapshot", details);
  return { details: id, pack: w.finish() };
}

/** `pack` grown to `length` bytes by zeros between its last frame and its TOC (still valid). */
function padBeforeToc(pack: Uint8Array, length: number): Uint8Array {
  const tocAt = pack.length - PACK_TRAILER_LENGTH -
    packTrailer(pack.subarray(pack.length - PACK_TRAILER_LENGTH));
  const out = new Uint8Array(length);
  out.set(pack.subarray(0, tocAt));
  out.set(pack.subarray(tocAt), length - (pack.length - tocAt));
  return out;
}

async function writeManifest(ingest: Repository, m: SnapshotManifest): Promise<string> {
  const bytes = encodeSnapshot(ingest.keys.indexKey, m);
  const id = sha256Hex(bytes);
  await ingest.storage.create(layout.snapshot(id), bytes);
  return id;
}

/** A segment claiming that `pack` (stored long ago) holds the blob `details`. */
async function writeFalseClaim(ingest: Repository, pack: string, details: string) {
  const segment = encodeIndexSegment(ingest.keys.indexKey, [{
    pack,
    metadata: true,
    length: 4096,
    blobs: [{
      id: details,
      type: "snapshot",
      frameOffset: 88,
      frameLength: 100,
      offsetInFrame: 0,
      length: 50,
    }],
  }], { level: ingest.config.compression.level });
  await ingest.storage.create(layout.index(sha256Hex(segment)), segment);
}

async function datesOf(dir: string) {
  const admin = await reopen(dir, { passphrase: PASSWORD });
  try {
    return await dateSnapshots(admin, await admin.snapshots());
  } finally {
    await admin.storage.close();
  }
}

Deno.test("a snapshot is dated by the store time of the pack holding its details when that is earlier than its manifest's", async () => {
  const { dir, honest, ingest } = await honestThenIngest();
  await ingest.storage.close();
  const { dates, packsRead, bytesRead } = await datesOf(dir);
  const date = dates.get(honest.id)!;
  assert.equal(date.time, PACKS_AT.toISOString());
  assert.equal(date.by, "pack");
  assert.equal(date.fallback, undefined);
  assert.equal(packsRead, 1, "one small metadata pack, read once");
  assert.ok(bytesRead < 4096, `${bytesRead} bytes`);
});

Deno.test("forged manifests, segments and hot copies cannot make a snapshot look older than the attack", async () => {
  const { dir, honest, dataPack, ingest } = await honestThenIngest();
  const { details: _, ...honestBody } = honest.manifest;
  const forged: Record<string, string> = {};
  try {
    // 1. A manifest naming the honest snapshot's real, old details blob, for another snapshot.
    forged.reusedDetails = await writeManifest(ingest, {
      ...honest.manifest,
      tags: ["forged"],
      root: sha256Hex(new TextEncoder().encode("another root")),
    });

    // 2. Its own details, in a pack of its own, claimed (by a segment) to be in the old pack.
    const own = { ...honestBody, tags: ["forged-claim"] };
    const claimed = forgedDetailsPack(ingest, own);
    await ingest.storage.create(layout.pack(claimed.pack.id), claimed.pack.data.slice());
    await ingest.storage.create(layout.metaCopy(claimed.pack.id), claimed.pack.data);
    const honestMetaPack = dates(await datesOf(dir), honest.id).pack!;
    await writeFalseClaim(ingest, honestMetaPack, claimed.details);
    forged.falseClaim = await writeManifest(ingest, { ...own, details: claimed.details });

    // 3. A planted hot copy under an old data pack's id (data packs have none), of that pack's
    // length (unreferenced bytes before its TOC), holding its own details, and a segment
    // claiming that pack holds them.
    const plantedBody = { ...honestBody, tags: ["planted"] };
    const planted = forgedDetailsPack(ingest, plantedBody);
    const plantedBytes = padBeforeToc(planted.pack.data, dataPack.length);
    await ingest.storage.create(layout.metaCopy(dataPack.id), plantedBytes);
    await writeFalseClaim(ingest, dataPack.id, planted.details);
    forged.planted = await writeManifest(ingest, { ...plantedBody, details: planted.details });
  } finally {
    await ingest.storage.close();
  }

  const all = await datesOf(dir);
  assert.equal(dates(all, honest.id).time, PACKS_AT.toISOString(), "the honest one keeps its date");
  const longAfter = Date.parse(MANIFEST_AT.toISOString()) + 24 * 3600_000;
  for (const [what, id] of Object.entries(forged)) {
    const date = dates(all, id);
    assert.ok(Date.parse(date.time) > longAfter, `${what}: dated ${date.time}`);
  }
  assert.equal(dates(all, forged.reusedDetails).by, "manifest");
  assert.match(dates(all, forged.reusedDetails).fallback!, /describes another snapshot/);
  // its own new pack may date it (it holds the details), the old one does not
  assert.notEqual(dates(all, forged.falseClaim).pack, dates(all, honest.id).pack);
  assert.equal(dates(all, forged.planted).by, "manifest");
  assert.match(
    dates(all, forged.planted).fallback!,
    new RegExp(`pack "${dataPack.id}" is not a metadata pack`),
  );
});

Deno.test("a forged claim that a large data pack holds details costs a header read, not a read of the pack", async () => {
  const { dir, honest, dataPack, ingest } = await honestThenIngest(3 << 20);
  assert.ok(dataPack.length > HEADER_FIRST_BYTES, `a data pack of ${dataPack.length} bytes`);
  const { details: _, ...honestBody } = honest.manifest;
  let forged: string;
  try {
    // A segment claiming the old data pack holds new details, and a hot copy planted under its
    // id, of its length, with a metadata header: neither is read whole.
    const body = { ...honestBody, tags: ["planted"] };
    const planted = forgedDetailsPack(ingest, body);
    await ingest.storage.create(
      layout.metaCopy(dataPack.id),
      padBeforeToc(planted.pack.data, dataPack.length),
    );
    await writeFalseClaim(ingest, dataPack.id, planted.details);
    forged = await writeManifest(ingest, { ...body, details: planted.details });
  } finally {
    await ingest.storage.close();
  }
  const all = await datesOf(dir);
  assert.equal(dates(all, honest.id).by, "pack");
  assert.equal(dates(all, forged).by, "manifest");
  assert.match(dates(all, forged).fallback!, new RegExp(`pack "${dataPack.id}" is not a metadata`));
  // The honest snapshot's small details pack whole; the planted copy and the pack only in part.
  assert.ok(all.bytesRead < 64 << 10, `read ${all.bytesRead} bytes`);
});

Deno.test("a snapshot whose details pack cannot be read is dated by its manifest, and says why", async () => {
  const { dir, honest, ingest } = await honestThenIngest();
  await ingest.storage.close();
  const pack = dates(await datesOf(dir), honest.id).pack!;
  fs.rmSync(join(dir, layout.metaCopy(pack)));
  const cold = join(dir, "packs", pack.slice(0, 2), pack);
  const bytes = fs.readFileSync(cold);
  bytes[100] ^= 1;
  fs.writeFileSync(cold, bytes);
  setStoreTime(dir, layout.pack(pack), PACKS_AT);
  const damaged = dates(await datesOf(dir), honest.id);
  assert.equal(damaged.by, "manifest");
  assert.equal(damaged.time, MANIFEST_AT.toISOString());
  assert.match(
    damaged.fallback!,
    new RegExp(
      `pack "${pack}" cannot be checked: "meta/${pack}" is missing, ` +
        `"packs/${pack}" does not match its id`,
    ),
  );

  fs.rmSync(cold);
  const gone = dates(await datesOf(dir), honest.id);
  assert.equal(gone.time, MANIFEST_AT.toISOString());
  assert.match(gone.fallback!, /no stored pack that the index names holds its details blob/);
});

function dates(all: Awaited<ReturnType<typeof datesOf>>, id: string) {
  const date = all.dates.get(id);
  assert.ok(date, `snapshot ${id} is dated`);
  return date;
}
