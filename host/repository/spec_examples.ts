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
  const keys = exampleKeys();
  const out = new Map<string, ExampleBlock>();
  const json = (name: string, value: unknown, zstd = false) =>
    out.set(name, { lang: "json", text: JSON.stringify(value, null, 2), zstd });
  const jsonBytes = (name: string, bytes: Uint8Array) =>
    out.set(name, { lang: "json", text: new TextDecoder().decode(bytes), zstd: false });

  json("keys", {
    passphrase: EXAMPLE.passphrase,
    repository: EXAMPLE.repository,
    publicKey: keys.publicKey.toHex(),
    privateKey: keys.privateKey!.toHex(),
    macKey: keys.macKey.toHex(),
    indexKey: keys.indexKey.toHex(),
    chunkerKey: keys.chunkerKey.toHex(),
  });

  const config: RepoConfig = {
    version: 1,
    id: EXAMPLE.repository,
    created: EXAMPLE.created,
    chunker: { algorithm: "fastcdc-2020", min: 262144, avg: 1048576, max: 4194304 },
    pack: { dataSize: 67108864, metaSize: 8388608, frameSize: 262144 },
    compression: { algorithm: "zstd", level: 3 },
    cold: { storageClass: "DEEP_ARCHIVE" },
  };
  jsonBytes("config", encodeConfig(config));

  // §11.2: the key object as writers write it (version 2, bound to the example repository),
  // and as version 1 wrote it (still read).
  const kdf = { ...EXAMPLE.kdf, salt: EXAMPLE.salt };
  const keyFile = await wrapKeyFile(keys, EXAMPLE.passphrase, EXAMPLE.repository, kdf, {
    created: EXAMPLE.created,
    nonce: exampleNonce(9),
  });
  jsonBytes("key-file", keyFile);
  const keyFileV1 = await wrapKeyFileV1(keys, EXAMPLE.passphrase, kdf, {
    created: EXAMPLE.created,
    nonce: exampleNonce(1),
  });
  jsonBytes("key-file-v1", keyFileV1);
  jsonBytes("key-export", encodeKeyExport(toIngestKeys(keys), EXAMPLE.repository));

  // A tiny repository: three data blobs (one file), its tree, and the snapshot details.
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
  jsonBytes("tree", treeBytes);

  const dataPack = examplePack(
    keys,
    EXAMPLE.dataPackKey,
    false,
    2,
    data.map((d, i) => ({
      id: dataIds[i],
      type: "data" as const,
      bytes: d,
    })),
  );
  out.set("data-pack", { lang: "hex", text: dataPack.annotated, zstd: true });

  const manifestBase: Omit<SnapshotManifest, "details"> = {
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
  // The details blob copies the manifest, whose stats count the metadata pack that holds the
  // details: use the plaintext sizes, and the data pack's size only, to break the cycle.
  manifestBase.stats.newBytes = data.reduce((n, d) => n + d.length, 0) + treeBytes.length;
  manifestBase.stats.storedBytes = dataPack.bytes.length;
  const detailsBytes = encodeDetails({ version: 1, manifest: manifestBase, skipped: [] });
  const detailsId = blobId(keys.macKey, detailsBytes);
  jsonBytes("snapshot-details", detailsBytes);

  const metaPack = examplePack(keys, EXAMPLE.metaPackKey, true, 5, [
    { id: treeId, type: "tree", bytes: treeBytes },
    { id: detailsId, type: "snapshot", bytes: detailsBytes },
  ]);
  out.set("meta-pack", { lang: "hex", text: metaPack.annotated, zstd: true });
  json("packs-decoded", [dataPack.decoded, metaPack.decoded], true);

  const indexed: IndexedPack[] = [dataPack, metaPack].map((p) => ({
    pack: p.id,
    metadata: p.metadata,
    length: p.bytes.length,
    blobs: p.blobs,
  }));
  const segment = encodeIndexSegment(keys.indexKey, indexed, { nonce: exampleNonce(8) });
  out.set("index-segment", {
    lang: "hex",
    text: [
      hexLine(segment.subarray(0, 4), '"PFIX"'),
      hexLine(segment.subarray(4, 5), "version 1"),
      ...sealedLines(segment.subarray(5), 'aeadSeal(indexKey, zstd(body), "PFIX")'),
    ].join("\n"),
    zstd: true,
  });
  out.set("index-segment-body", { lang: "hex", text: annotateBody(indexed), zstd: false });
  // §6.5: the plaintext of a pack-index blob naming the data pack (not stored in the example
  // metadata pack, which predates blob type 3).
  out.set("pack-index-blob", {
    lang: "hex",
    text: annotateBody([indexed[0]], encodePackIndex([indexed[0]])),
    zstd: false,
  });
  json("index-segment-decoded", indexed);

  const manifest: SnapshotManifest = { ...manifestBase, details: detailsId };
  // The manifest's nonce is derived from its JSON (§9.1), not an example nonce.
  const snap = encodeSnapshot(keys.indexKey, manifest);
  out.set("snapshot-manifest", {
    lang: "hex",
    text: [
      hexLine(snap.subarray(0, 4), '"PFSN"'),
      hexLine(snap.subarray(4, 5), "version 1"),
      ...sealedLines(snap.subarray(5), 'aeadSeal(indexKey, manifest JSON, "PFSN")'),
    ].join("\n"),
    zstd: false,
  });
  json("snapshot-manifest-decoded", manifest);

  // §8, tree version 2: the same directory with two extended attributes on its file.
  const attrs: [string, string][] = [["user.comment", "greeting"], [
    "user.mime_type",
    "text/plain",
  ]];
  const treeV2: Tree = {
    version: 2,
    nodes: [{ ...tree.nodes[0], xattrs: attrs.map(([n, v]) => [n, utf8(v).toBase64()]) }],
  };
  jsonBytes("tree-v2", encodeTree(treeV2));
  json("tree-v2-xattrs-decoded", Object.fromEntries(attrs));
  return out;
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
  blobs: { id: string; type: BlobType; bytes: Uint8Array }[],
): ExamplePack {
  const header = encodePackHeader(metadata, sealTo(keys.publicKey, dataKey, EXAMPLE.ephemeralKey));
  const lines = [
    hexLine(header.subarray(0, 4), '"PFPK"'),
    hexLine(header.subarray(4, 5), "version 1"),
    hexLine(header.subarray(5, 6), `flags: ${metadata ? "metadata" : "data"} pack`),
    hexLine(header.subarray(6, 8), "reserved"),
    ...hexBlock(header.subarray(8), "sealed data key (crypto_box_seal, 80 bytes)"),
  ];
  const parts = [header];
  const locations: BlobLocation[] = [];
  let offset = PACK_HEADER_LENGTH;
  let nonce = firstNonce;
  let group: typeof blobs = [];
  const flush = () => {
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
    group = [];
  };
  let open = 0;
  for (const b of blobs) {
    if (open > 0 && open + b.bytes.length > EXAMPLE.frameSize) {
      flush();
      open = 0;
    }
    group.push(b);
    open += b.bytes.length;
  }
  flush();
  const toc = sealToc(dataKey, locations, exampleNonce(nonce));
  lines.push(...sealedLines(toc, `TOC at offset ${offset} (${locations.length} entries)`));
  const trailer = encodePackTrailer(toc.length);
  lines.push(hexLine(trailer.subarray(0, 4), `TOC length ${toc.length}`));
  lines.push(hexLine(trailer.subarray(4), '"PFTR"'));
  parts.push(toc, trailer);
  const bytes = concat(parts);
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
