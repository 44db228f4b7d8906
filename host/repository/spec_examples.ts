/**
 * Builds the worked examples of docs/format.md §11 from fixed keys and nonces, with the real
 * encoders. `deno run host/repository/spec_examples.ts` prints every example block;
 * `spec_examples_test.ts` decodes the blocks found in the doc with the real decoders and checks
 * that the examples below still encode to the same bytes.
 *
 * The example keys and nonces are public: never use them for anything else.
 *
 * @module
 */

import { concatBytes as concat, utf8 } from "../crypto/bytes.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { publicKeyOf, sealTo } from "../crypto/sealed_box.ts";
import type { BlobLocation, BlobType } from "./blob_table.ts";
import { encodeConfig, type RepoConfig } from "./config.ts";
import { encodeIndexBody, encodeIndexSegment, type IndexedPack } from "./index_segment.ts";
import { encodeKeyExport, wrapKeyFile, wrapKeyFileV1 } from "./keyfile.ts";
import { encodePackIndex } from "./pack_index.ts";
import { type RepoKeys, toIngestKeys } from "./keys.ts";
import {
  encodePackHeader,
  encodePackTrailer,
  PACK_HEADER_LENGTH,
  sealFrame,
  sealToc,
} from "./pack.ts";
import { encodeDetails, encodeSnapshot, type SnapshotManifest } from "./snapshot.ts";
import { encodeTree, type Tree } from "./tree.ts";

const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);

/** The fixed inputs every example uses. */
export const EXAMPLE = {
  passphrase: "correct horse battery staple",
  repository: "0123456789abcdef".repeat(4),
  created: "2025-01-01T00:00:00.000Z",
  privateKey: fill(32, 0x01),
  macKey: fill(32, 0x02),
  indexKey: fill(32, 0x03),
  chunkerKey: fill(32, 0x04),
  ephemeralKey: fill(32, 0x05),
  dataPackKey: fill(32, 0x06),
  metaPackKey: fill(32, 0x07),
  salt: fill(16, 0x08),
  kdf: { opslimit: 1, memlimit: 8 * 1024 * 1024 },
  frameSize: 32,
  level: 3,
} as const;

/** Nonce number `n`: eleven zero bytes then `n`. Each example seal uses a different one. */
export function exampleNonce(n: number): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce[11] = n;
  return nonce;
}

/** The example master keys. */
export function exampleKeys(): RepoKeys {
  return {
    role: "master",
    publicKey: publicKeyOf(EXAMPLE.privateKey),
    privateKey: EXAMPLE.privateKey.slice(),
    macKey: EXAMPLE.macKey.slice(),
    indexKey: EXAMPLE.indexKey.slice(),
    chunkerKey: EXAMPLE.chunkerKey.slice(),
  };
}

/** One example block: its fence language and body. */
export interface ExampleBlock {
  lang: "hex" | "json";
  text: string;
  /** Whether its bytes depend on the zstd library's output (checked by decoding only). */
  zstd: boolean;
}

/** Every example block of docs/format.md, by name. */
export async function buildSpecExamples(): Promise<Map<string, ExampleBlock>> {
  const b: Examples = { keys: exampleKeys(), out: new Map() };
  keysExample(b);
  const config = configExample(b);
  await keyFileExamples(b);
  const repo = tinyRepositoryExample(b);
  indexSegmentExamples(b, repo, config);
  snapshotManifestExample(b, repo);
  treeV2Example(b, repo.tree);
  treeV3Example(b, repo.tree);
  return b.out;
}

/** The example keys, and the blocks built so far (in the order of docs/format.md). */
interface Examples {
  keys: RepoKeys;
  out: Map<string, ExampleBlock>;
}

/** Adds a JSON block: `value` as `JSON.stringify` indents it. */
function json(b: Examples, name: string, value: unknown, zstd = false): void {
  b.out.set(name, { lang: "json", text: JSON.stringify(value, null, 2), zstd });
}

/** Adds a JSON block: the bytes an encoder wrote, as they are. */
function jsonBytes(b: Examples, name: string, bytes: Uint8Array): void {
  b.out.set(name, { lang: "json", text: new TextDecoder().decode(bytes), zstd: false });
}

/** §11 "keys": the passphrase, the repository id and the example keys. */
function keysExample(b: Examples): void {
  const { keys } = b;
  json(b, "keys", {
    passphrase: EXAMPLE.passphrase,
    repository: EXAMPLE.repository,
    publicKey: keys.publicKey.toHex(),
    privateKey: keys.privateKey!.toHex(),
    macKey: keys.macKey.toHex(),
    indexKey: keys.indexKey.toHex(),
    chunkerKey: keys.chunkerKey.toHex(),
  });
}

/** §11.1 "config": the example repository's config, with the defaults of §5. */
function configExample(b: Examples): RepoConfig {
  const config: RepoConfig = {
    version: 1,
    id: EXAMPLE.repository,
    created: EXAMPLE.created,
    chunker: { algorithm: "fastcdc-2020", min: 262144, avg: 1048576, max: 4194304 },
    pack: { dataSize: 67108864, metaSize: 8388608, frameSize: 262144 },
    compression: { algorithm: "zstd", level: EXAMPLE.level },
    cold: { storageClass: "DEEP_ARCHIVE" },
  };
  jsonBytes(b, "config", encodeConfig(config));
  return config;
}

/**
 * §11.2-§11.3 "key-file", "key-file-v1", "key-export": the key object as writers write it
 * (version 2, bound to the example repository), as version 1 wrote it (still read), and the
 * exported ingest key.
 */
async function keyFileExamples(b: Examples): Promise<void> {
  const { keys } = b;
  const kdf = { ...EXAMPLE.kdf, salt: EXAMPLE.salt };
  const keyFile = await wrapKeyFile(keys, EXAMPLE.passphrase, EXAMPLE.repository, kdf, {
    created: EXAMPLE.created,
    nonce: exampleNonce(9),
  });
  jsonBytes(b, "key-file", keyFile);
  const keyFileV1 = await wrapKeyFileV1(keys, EXAMPLE.passphrase, kdf, {
    created: EXAMPLE.created,
    nonce: exampleNonce(1),
  });
  jsonBytes(b, "key-file-v1", keyFileV1);
  jsonBytes(b, "key-export", encodeKeyExport(toIngestKeys(keys), EXAMPLE.repository));
}

/** What the tiny repository of §11.4 holds, for the examples built from it. */
interface TinyRepository {
  tree: Tree;
  dataPack: ExamplePack;
  metaPack: ExamplePack;
  /** The snapshot's manifest but its details blob id, and that id. */
  manifestBase: Omit<SnapshotManifest, "details">;
  detailsId: string;
}

/**
 * §11.4 A tiny repository: three data blobs (one file) in a data pack, its tree ("tree"), the
 * snapshot details ("snapshot-details") and both in a metadata pack ("data-pack", "meta-pack",
 * "packs-decoded").
 */
function tinyRepositoryExample(b: Examples): TinyRepository {
  const { keys } = b;
  const texts = ["hello, permafrost\n", "hello again\n", "a second frame\n"];
  const data = texts.map(utf8);
  const dataIds = data.map((d) => blobId(keys.macKey, d));
  const tree: Tree = {
    version: 1,
    nodes: [{
      name: "hello.txt",
      type: "file",
      mode: 0o644,
      mtime: "1735689600000000000",
      uid: 1000,
      gid: 1000,
      size: data.reduce((n, d) => n + d.length, 0),
      content: dataIds,
    }],
  };
  const treeBytes = encodeTree(tree);
  const treeId = blobId(keys.macKey, treeBytes);
  jsonBytes(b, "tree", treeBytes);

  const dataPack = examplePack(
    keys,
    EXAMPLE.dataPackKey,
    false,
    2,
    data.map((d, i) => ({ id: dataIds[i], type: "data" as const, bytes: d })),
  );
  b.out.set("data-pack", { lang: "hex", text: dataPack.annotated, zstd: true });

  const manifestBase = exampleManifestBase(tree, treeId);
  // The details blob copies the manifest, whose stats count the metadata pack that holds the
  // details: use the plaintext sizes, and the data pack's size only, to break the cycle.
  manifestBase.stats.newBytes = data.reduce((n, d) => n + d.length, 0) + treeBytes.length;
  manifestBase.stats.storedBytes = dataPack.bytes.length;
  const detailsBytes = encodeDetails({ version: 1, manifest: manifestBase, skipped: [] });
  const detailsId = blobId(keys.macKey, detailsBytes);
  jsonBytes(b, "snapshot-details", detailsBytes);

  const metaPack = examplePack(keys, EXAMPLE.metaPackKey, true, 5, [
    { id: treeId, type: "tree", bytes: treeBytes },
    { id: detailsId, type: "snapshot", bytes: detailsBytes },
  ]);
  b.out.set("meta-pack", { lang: "hex", text: metaPack.annotated, zstd: true });
  json(b, "packs-decoded", [dataPack.decoded, metaPack.decoded], true);
  return { tree, dataPack, metaPack, manifestBase, detailsId };
}

/** The example snapshot of `tree` (root `treeId`), but its details id and byte counts. */
function exampleManifestBase(tree: Tree, treeId: string): Omit<SnapshotManifest, "details"> {
  return {
    version: 1,
    time: EXAMPLE.created,
    host: "example-host",
    user: "ana",
    paths: ["/home/ana/docs"],
    tags: ["example"],
    engine: "dedup",
    root: treeId,
    stats: {
      files: 1,
      dirs: 1,
      bytes: tree.nodes[0].size!,
      newBlobs: 5,
      newBytes: 0,
      storedBytes: 0,
      skipped: 0,
    },
  };
}

/**
 * §11.5 and §11.7: the index segment naming both packs, sealed at the config's compression
 * level (docs/format.md §3.5; "index-segment"), its body ("index-segment-body"), and decoded
 * ("index-segment-decoded"); and the plaintext of a pack-index blob (§6.5) naming the data pack
 * ("pack-index-blob"; not stored in the example metadata pack, which predates blob type 3).
 */
function indexSegmentExamples(b: Examples, repo: TinyRepository, config: RepoConfig): void {
  const indexed: IndexedPack[] = [repo.dataPack, repo.metaPack].map((p) => ({
    pack: p.id,
    metadata: p.metadata,
    length: p.bytes.length,
    blobs: p.blobs,
  }));
  const segment = encodeIndexSegment(b.keys.indexKey, indexed, {
    level: config.compression.level,
    nonce: exampleNonce(8),
  });
  b.out.set("index-segment", {
    lang: "hex",
    text: [
      hexLine(segment.subarray(0, 4), '"PFIX"'),
      hexLine(segment.subarray(4, 5), "version 1"),
      ...sealedLines(segment.subarray(5), 'aeadSeal(indexKey, zstd(body), "PFIX")'),
    ].join("\n"),
    zstd: true,
  });
  b.out.set("index-segment-body", { lang: "hex", text: annotateBody(indexed), zstd: false });
  b.out.set("pack-index-blob", {
    lang: "hex",
    text: annotateBody([indexed[0]], encodePackIndex([indexed[0]])),
    zstd: false,
  });
  json(b, "index-segment-decoded", indexed);
}

/**
 * §11.6 "snapshot-manifest" and "snapshot-manifest-decoded": the tiny repository's snapshot,
 * sealed with the nonce derived from its JSON (§9.1), not an example nonce.
 */
function snapshotManifestExample(b: Examples, repo: TinyRepository): void {
  const manifest: SnapshotManifest = { ...repo.manifestBase, details: repo.detailsId };
  const snap = encodeSnapshot(b.keys.indexKey, manifest);
  b.out.set("snapshot-manifest", {
    lang: "hex",
    text: [
      hexLine(snap.subarray(0, 4), '"PFSN"'),
      hexLine(snap.subarray(4, 5), "version 1"),
      ...sealedLines(snap.subarray(5), 'aeadSeal(indexKey, manifest JSON, "PFSN")'),
    ].join("\n"),
    zstd: false,
  });
  json(b, "snapshot-manifest-decoded", manifest);
}

/** §11.8 "tree-v2": the same directory with two extended attributes on its file (§8). */
function treeV2Example(b: Examples, tree: Tree): void {
  const attrs: [string, string][] = [
    ["user.comment", "greeting"],
    ["user.mime_type", "text/plain"],
  ];
  const treeV2: Tree = {
    version: 2,
    nodes: [{ ...tree.nodes[0], xattrs: attrs.map(([n, v]) => [n, utf8(v).toBase64()]) }],
  };
  jsonBytes(b, "tree-v2", encodeTree(treeV2));
  json(b, "tree-v2-xattrs-decoded", Object.fromEntries(attrs));
}

/**
 * §11.9 "tree-v3": the same directory as written by the `sync` engine: the file's bytes are the
 * plain object `mirror/docs/hello.txt` (§2, §8), not blobs.
 */
function treeV3Example(b: Examples, tree: Tree): void {
  const { content: _, ...node } = tree.nodes[0];
  const treeV3: Tree = {
    version: 3,
    nodes: [{
      ...node,
      content: [],
      mirror: {
        key: "mirror/docs/hello.txt",
        // SHA-256 of the file's 45 bytes, the three blobs of §11.4 in order.
        sha256: "ae200ecaf9e40105e54cd467bc5324864b225f54f63509893b39f0938b319720",
        class: "STANDARD",
      },
    }],
  };
  jsonBytes(b, "tree-v3", encodeTree(treeV3));
}

interface ExamplePack {
  id: string;
  metadata: boolean;
  bytes: Uint8Array;
  blobs: BlobLocation[];
  annotated: string;
  decoded: unknown;
}

/** A pack built like PackWriter does, but with a fixed data key, sender key and nonces. */
function examplePack(
  keys: RepoKeys,
  dataKey: Uint8Array,
  metadata: boolean,
  firstNonce: number,
  blobs: ExampleBlob[],
): ExamplePack {
  const header = encodePackHeader(metadata, sealTo(keys.publicKey, dataKey, EXAMPLE.ephemeralKey));
  const lines = [
    hexLine(header.subarray(0, 4), '"PFPK"'),
    hexLine(header.subarray(4, 5), "version 1"),
    hexLine(header.subarray(5, 6), `flags: ${metadata ? "metadata" : "data"} pack`),
    hexLine(header.subarray(6, 8), "reserved"),
    ...hexBlock(header.subarray(8), "sealed data key (crypto_box_seal, 80 bytes)"),
  ];
  const frames = exampleFrames(dataKey, firstNonce, blobs);
  lines.push(...frames.lines);
  const { locations, offset } = frames;
  const toc = sealToc(dataKey, locations, exampleNonce(frames.nextNonce));
  lines.push(...sealedLines(toc, `TOC at offset ${offset} (${locations.length} entries)`));
  const trailer = encodePackTrailer(toc.length);
  lines.push(hexLine(trailer.subarray(0, 4), `TOC length ${toc.length}`));
  lines.push(hexLine(trailer.subarray(4), '"PFTR"'));
  const bytes = concat([header, ...frames.parts, toc, trailer]);
  const id = sha256Hex(bytes);
  return {
    id,
    metadata,
    bytes,
    blobs: locations,
    annotated: lines.join("\n"),
    decoded: {
      id,
      metadata,
      length: bytes.length,
      blobs: locations.map((l, i) => ({ ...l, text: new TextDecoder().decode(blobs[i].bytes) })),
    },
  };
}

/** One blob of an example pack. */
interface ExampleBlob {
  id: string;
  type: BlobType;
  bytes: Uint8Array;
}

/**
 * `blobs` in frames of at most {@link EXAMPLE}`.frameSize` plaintext bytes (§6.2), sealed with
 * example nonces from `firstNonce` on, from the end of the pack header: the sealed frames, each
 * blob's location, their annotated lines, where the frames end and the next nonce.
 */
function exampleFrames(
  dataKey: Uint8Array,
  firstNonce: number,
  blobs: ExampleBlob[],
): {
  parts: Uint8Array[];
  locations: BlobLocation[];
  lines: string[];
  offset: number;
  nextNonce: number;
} {
  const parts: Uint8Array[] = [];
  const locations: BlobLocation[] = [];
  const lines: string[] = [];
  let offset = PACK_HEADER_LENGTH;
  let nonce = firstNonce;
  const seal = (group: ExampleBlob[]) => {
    const plain = concat(group.map((b) => b.bytes));
    const frame = sealFrame(dataKey, plain, offset, EXAMPLE.level, exampleNonce(nonce++));
    let at = 0;
    for (const b of group) {
      locations.push({
        id: b.id,
        type: b.type,
        frameOffset: offset,
        frameLength: frame.length,
        offsetInFrame: at,
        length: b.bytes.length,
      });
      at += b.bytes.length;
    }
    lines.push(...sealedLines(frame, `frame at offset ${offset}: ${group.length} blob(s)`));
    parts.push(frame);
    offset += frame.length;
  };
  let group: ExampleBlob[] = [];
  let open = 0;
  for (const b of blobs) {
    if (open > 0 && open + b.bytes.length > EXAMPLE.frameSize) {
      seal(group);
      group = [];
      open = 0;
    }
    group.push(b);
    open += b.bytes.length;
  }
  seal(group);
  return { parts, locations, lines, offset, nextNonce: nonce };
}

function annotateBody(packs: IndexedPack[], body = encodeIndexBody(packs)): string {
  const lines = [hexLine(body.subarray(0, 4), `pack count ${packs.length}`)];
  let at = 4;
  for (const p of packs) {
    lines.push(hexLine(body.subarray(at, at + 32), "pack id"));
    lines.push(
      hexLine(body.subarray(at + 32, at + 33), `flags: ${p.metadata ? "metadata" : "data"}`),
    );
    lines.push(hexLine(body.subarray(at + 33, at + 37), `pack length ${p.length}`));
    lines.push(hexLine(body.subarray(at + 37, at + 41), `blob count ${p.blobs.length}`));
    at += 41;
    for (const b of p.blobs) {
      lines.push(hexLine(body.subarray(at, at + 32), `blob id (${b.type})`));
      lines.push(
        hexLine(
          body.subarray(at + 32, at + 53),
          `type ${b.type}, frame ${b.frameOffset}+${b.frameLength}, at ${b.offsetInFrame}, length ${b.length}`,
        ),
      );
      at += 53;
    }
  }
  return lines.join("\n");
}

function sealedLines(sealed: Uint8Array, what: string): string[] {
  return [
    hexLine(sealed.subarray(0, 12), `nonce — ${what}`),
    ...hexBlock(
      sealed.subarray(12, sealed.length - 16),
      `ciphertext (${sealed.length - 28} bytes)`,
    ),
    hexLine(sealed.subarray(sealed.length - 16), "tag"),
  ];
}

function hexBlock(bytes: Uint8Array, comment: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) {
    lines.push(
      i === 0 ? hexLine(bytes.subarray(i, i + 32), comment) : bytes.subarray(i, i + 32).toHex(),
    );
  }
  return lines;
}

function hexLine(bytes: Uint8Array, comment: string): string {
  return `${bytes.toHex().padEnd(64)}  # ${comment}`;
}

if (import.meta.main) {
  for (const [name, block] of await buildSpecExamples()) {
    console.log("```" + `${block.lang} example:${name}\n${block.text}\n` + "```\n");
  }
}
