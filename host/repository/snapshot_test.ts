import assert from "node:assert/strict";
import { IntegrityError } from "../crypto/errors.ts";
import { FormatError } from "./errors.ts";
import {
  decodeDetails,
  decodeSnapshot,
  encodeDetails,
  encodeSnapshot,
  type SnapshotManifest,
} from "./snapshot.ts";

const indexKey = new Uint8Array(32).fill(4);
const id = (c: string) => c.repeat(64);
const enc = new TextEncoder();

const manifest: SnapshotManifest = {
  version: 1,
  time: "2025-03-01T02:00:00.000Z",
  host: "laptop",
  user: "ana",
  paths: ["/home/ana"],
  tags: ["nightly"],
  engine: "dedup",
  root: id("e"),
  parent: id("f"),
  stats: {
    files: 10,
    dirs: 2,
    bytes: 12345,
    newBlobs: 3,
    newBytes: 999,
    storedBytes: 800,
    skipped: 1,
  },
  details: id("d"),
};

Deno.test("decodeSnapshot() returns the manifest encodeSnapshot() sealed", () => {
  const bytes = encodeSnapshot(indexKey, manifest);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "PFSN");
  assert.equal(bytes[4], 1);
  assert.deepEqual(decodeSnapshot(indexKey, bytes), manifest);
  const { parent: _, ...first } = manifest;
  assert.deepEqual(decodeSnapshot(indexKey, encodeSnapshot(indexKey, first)), first);
});

Deno.test("a manifest is unreadable without the index key and tamper-evident", () => {
  const bytes = encodeSnapshot(indexKey, manifest);
  assert.ok(!new TextDecoder("latin1").decode(bytes).includes("laptop"));
  assert.throws(() => decodeSnapshot(new Uint8Array(32), bytes), IntegrityError);
  const bad = bytes.slice();
  bad[40] ^= 1;
  assert.throws(() => decodeSnapshot(indexKey, bad), IntegrityError);
  const v2 = bytes.slice();
  v2[4] = 2;
  assert.throws(() => decodeSnapshot(indexKey, v2), FormatError);
});

Deno.test("encodeSnapshot() refuses a manifest breaking the format, naming the field", () => {
  const cases: [Partial<SnapshotManifest>, RegExp][] = [
    [{ root: "abc" }, /"root"/],
    [{ time: "yesterday" }, /"time"/],
    [{ engine: "" }, /"engine"/],
    [{ stats: { ...manifest.stats, bytes: -1 } }, /"stats\.bytes"/],
    [{ tags: [1 as unknown as string] }, /"tags\[0\]"/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => encodeSnapshot(indexKey, { ...manifest, ...change }), {
      name: "FormatError",
      message,
    });
  }
});

Deno.test("decodeDetails() returns the details encodeDetails() wrote", () => {
  const { details: _, ...copy } = manifest;
  const details = {
    version: 1 as const,
    manifest: copy,
    skipped: [{ path: "/home/ana/\ufffd.bin", reason: "file name is not UTF-8" }],
  };
  const bytes = encodeDetails(details);
  assert.deepEqual(decodeDetails(bytes), details);
  assert.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(bytes))), [
    "version",
    "manifest",
    "skipped",
  ]);
});

Deno.test("decodeDetails() refuses a manifest copy that carries details or misses fields", () => {
  const { details: _, ...copy } = manifest;
  const withDetails = { version: 1, manifest: { ...copy, details: id("d") }, skipped: [] };
  assert.throws(
    () => decodeDetails(enc.encode(JSON.stringify(withDetails))),
    /"manifest\.details"/,
  );
  const noRoot = { version: 1, manifest: { ...copy, root: undefined }, skipped: [] };
  assert.throws(
    () => decodeDetails(enc.encode(JSON.stringify(noRoot))),
    /"manifest\.root" is missing/,
  );
  assert.throws(
    () => decodeDetails(enc.encode(JSON.stringify({ version: 1, manifest: copy, skipped: [{}] }))),
    /"skipped\[0\]\.path"/,
  );
});

Deno.test("details carry protection findings only when there are some, and refuse a malformed one", () => {
  const { details: _, ...copy } = manifest;
  const finding = {
    kind: "changed" as const,
    path: "/home/ana/scans/deed.tif",
    source: "ana",
    rel: "scans/deed.tif",
    snapshot: id("a"),
    restore: `permafrost restore ${id("a")}:/ana/scans/deed.tif --target DIR`,
  };
  const details = { version: 1 as const, manifest: copy, skipped: [], findings: [finding] };
  const bytes = encodeDetails(details);
  assert.deepEqual(decodeDetails(bytes), details);
  const none = encodeDetails({ ...details, findings: [] });
  assert.deepEqual(Object.keys(JSON.parse(new TextDecoder().decode(none))), [
    "version",
    "manifest",
    "skipped",
  ]);
  assert.equal(decodeDetails(none).findings, undefined);
  const bad = JSON.parse(new TextDecoder().decode(bytes));
  bad.findings[0].kind = "edited";
  assert.throws(() => decodeDetails(enc.encode(JSON.stringify(bad))), /findings\[0\]\.kind/);
});
