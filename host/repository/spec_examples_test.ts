/**
 * Decodes the worked examples of docs/format.md §11 with the real codecs, and checks that the
 * examples the generator (`spec_examples.ts`) builds still match the doc byte for byte.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { aeadOpen } from "../crypto/aead.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { publicKeyOf } from "../crypto/sealed_box.ts";
import { decompress } from "../crypto/zstd.ts";
import { decodeConfig } from "./config.ts";
import { decodeIndexSegment } from "./index_segment.ts";
import { decodeKeyExport, readKeyFileInfo, unwrapKeyFile } from "./keyfile.ts";
import { type RepoKeys, toIngestKeys } from "./keys.ts";
import { openDataKey, readBlob, readPackContents } from "./pack.ts";
import { decodeDetails, decodeSnapshot, encodeSnapshot, manifestNonce } from "./snapshot.ts";
import { buildSpecExamples } from "./spec_examples.ts";
import { decodePackIndex } from "./pack_index.ts";
import { decodeTree } from "./tree.ts";

const doc = await Deno.readTextFile(new URL("../../docs/format.md", import.meta.url));
const blocks = new Map<string, { lang: string; text: string }>();
for (const m of doc.matchAll(/^```(hex|json) example:([a-z0-9-]+)\n([\s\S]*?)^```$/gm)) {
  assert.ok(!blocks.has(m[2]), `example "${m[2]}" appears twice in docs/format.md`);
  blocks.set(m[2], { lang: m[1], text: m[3].replace(/\n$/, "") });
}

function block(name: string): string {
  const b = blocks.get(name);
  assert.ok(b, `docs/format.md has no example "${name}"`);
  return b.text;
}
const json = (name: string) => JSON.parse(block(name));
const bytes = (name: string) => new TextEncoder().encode(block(name));
function hex(name: string): Uint8Array {
  const digits = block(name).replace(/#.*$/gm, "").replace(/\s+/g, "");
  assert.match(digits, /^([0-9a-f]{2})*$/, `example "${name}" is not hex`);
  return Uint8Array.fromHex(digits);
}
const fromHex = (s: string) => Uint8Array.fromHex(s);

const k = json("keys");
const keys: RepoKeys = {
  role: "master",
  publicKey: fromHex(k.publicKey),
  privateKey: fromHex(k.privateKey),
  macKey: fromHex(k.macKey),
  indexKey: fromHex(k.indexKey),
  chunkerKey: fromHex(k.chunkerKey),
};

Deno.test("the spec's examples are the ones spec_examples.ts builds (zstd-free ones byte for byte)", async () => {
  const built = await buildSpecExamples();
  for (const [name, b] of built) {
    const inDoc = blocks.get(name);
    assert.ok(inDoc, `docs/format.md lacks example "${name}"`);
    assert.equal(inDoc.lang, b.lang, `example "${name}" language`);
    if (!b.zstd) assert.equal(inDoc.text, b.text, `example "${name}" differs from the generator`);
  }
  assert.deepEqual([...blocks.keys()].sort(), [...built.keys()].sort());
});

Deno.test("spec example keys: the public key is the X25519 key of the private key", () => {
  assert.deepEqual(publicKeyOf(keys.privateKey!), keys.publicKey);
});

Deno.test("spec example config decodes with decodeConfig()", () => {
  const c = decodeConfig(bytes("config"));
  assert.equal(c.id, k.repository);
  assert.deepEqual(c.chunker, {
    algorithm: "fastcdc-2020",
    min: 262144,
    avg: 1048576,
    max: 4194304,
  });
  assert.equal(c.cold.storageClass, "DEEP_ARCHIVE");
});

Deno.test("spec example key object opens with the example passphrase to the example keys, for the example repository only", async () => {
  const repository = k.repository;
  assert.equal(readKeyFileInfo(bytes("key-file")).repository, repository);
  assert.deepEqual(await unwrapKeyFile(bytes("key-file"), k.passphrase, { repository }), keys);
  await assert.rejects(() => unwrapKeyFile(bytes("key-file"), "wrong"), {
    name: "WrongPassphrase",
  });
  await assert.rejects(
    () => unwrapKeyFile(bytes("key-file"), k.passphrase, { repository: "ab".repeat(32) }),
    { name: "ForeignKey" },
  );
});

Deno.test("spec example version 1 key object still opens to the example keys, for any repository", async () => {
  assert.equal(readKeyFileInfo(bytes("key-file-v1")).version, 1);
  const repository = "ab".repeat(32);
  assert.deepEqual(await unwrapKeyFile(bytes("key-file-v1"), k.passphrase, { repository }), keys);
  await assert.rejects(() => unwrapKeyFile(bytes("key-file-v1"), "wrong"), {
    name: "WrongPassphrase",
  });
});

Deno.test("spec example key export decodes to the ingest keys of the example repository", () => {
  const { repoId, keys: ingest } = decodeKeyExport(bytes("key-export"));
  assert.equal(repoId, k.repository);
  assert.deepEqual(ingest, toIngestKeys(keys));
});

Deno.test("spec example packs describe themselves and every blob reads back verified", () => {
  const expected = json("packs-decoded");
  for (const [i, name] of ["data-pack", "meta-pack"].entries()) {
    const pack = hex(name);
    const want = expected[i];
    assert.equal(sha256Hex(pack), want.id);
    assert.equal(pack.length, want.length);
    const contents = readPackContents(pack, keys);
    assert.equal(contents.metadata, want.metadata);
    assert.deepEqual(contents.blobs, want.blobs.map(({ text: _, ...loc }: any) => loc));
    const dataKey = openDataKey(pack.subarray(0, 88), keys);
    for (const [j, loc] of contents.blobs.entries()) {
      const frame = pack.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
      const blob = readBlob(dataKey, frame, loc, keys.macKey);
      assert.equal(new TextDecoder().decode(blob), want.blobs[j].text);
    }
  }
});

Deno.test("spec example tree and details are the blobs stored in the metadata pack", () => {
  const [dataPack, metaPack] = json("packs-decoded");
  const tree = decodeTree(bytes("tree"));
  assert.deepEqual(tree.nodes[0].content, dataPack.blobs.map((b: any) => b.id));
  assert.equal(tree.nodes[0].size, dataPack.blobs.reduce((n: number, b: any) => n + b.length, 0));
  assert.equal(metaPack.blobs[0].text, block("tree"));
  const details = decodeDetails(bytes("snapshot-details"));
  assert.equal(metaPack.blobs[1].text, block("snapshot-details"));
  assert.equal(details.manifest.root, metaPack.blobs[0].id);
});

Deno.test("spec example tree version 2 is the example tree plus the documented attributes", () => {
  const v1 = decodeTree(bytes("tree"));
  const v2 = decodeTree(bytes("tree-v2"));
  assert.equal(v2.version, 2);
  const { xattrs, ...rest } = v2.nodes[0];
  assert.deepEqual(rest, v1.nodes[0]);
  const decoded = Object.fromEntries(
    xattrs!.map(([name, value]) => [name, new TextDecoder().decode(Uint8Array.fromBase64(value))]),
  );
  assert.deepEqual(decoded, json("tree-v2-xattrs-decoded"));
});

Deno.test("spec example tree version 3 is the example tree with its file mirrored: no blobs, the object and the SHA-256 of its bytes", () => {
  const v1 = decodeTree(bytes("tree"));
  const v3 = decodeTree(bytes("tree-v3"));
  assert.equal(v3.version, 3);
  const { mirror, content, ...rest } = v3.nodes[0];
  const { content: blobs, ...base } = v1.nodes[0];
  assert.deepEqual(rest, base);
  assert.deepEqual(content, []);
  assert.equal(blobs!.length, 3);
  const text = "hello, permafrost\nhello again\na second frame\n";
  assert.equal(text.length, v3.nodes[0].size);
  assert.deepEqual(mirror, {
    key: "mirror/docs/hello.txt",
    sha256: createHash("sha256").update(text).digest("hex"),
    class: "STANDARD",
  });
});

Deno.test("spec example index segment decodes to the packs it names, body as documented", () => {
  const segment = hex("index-segment");
  assert.deepEqual(decodeIndexSegment(keys.indexKey, segment), json("index-segment-decoded"));
  const body = decompress(
    aeadOpen(keys.indexKey, segment.subarray(5), new TextEncoder().encode("PFIX")),
  );
  assert.deepEqual(body, hex("index-segment-body"));
  const packs = json("packs-decoded");
  assert.deepEqual(
    json("index-segment-decoded").map((p: any) => p.pack),
    packs.map((p: any) => p.id),
  );
});

Deno.test("spec example snapshot manifest decodes, and re-encodes to the same bytes", () => {
  const sealed = hex("snapshot-manifest");
  const manifest = decodeSnapshot(keys.indexKey, sealed);
  assert.deepEqual(manifest, json("snapshot-manifest-decoded"));
  // The nonce is derived from the manifest (§9.1): re-encoding gives the same bytes, and so
  // does re-encoding the manifest from the details blob (the manifest minus "details").
  assert.deepEqual(encodeSnapshot(keys.indexKey, manifest), sealed);
  assert.deepEqual(sealed.subarray(5, 17), manifestNonce(keys.indexKey, manifestJson(manifest)));
  const details = decodeDetails(bytes("snapshot-details"));
  assert.deepEqual(
    encodeSnapshot(keys.indexKey, { ...details.manifest, details: manifest.details }),
    sealed,
  );
  const [, metaPack] = json("packs-decoded");
  assert.equal(manifest.root, metaPack.blobs[0].id);
  assert.equal(manifest.details, metaPack.blobs[1].id);
});

Deno.test("spec example pack-index blob decodes to the data pack, as its TOC lists it", () => {
  const [dataPack] = json("packs-decoded");
  const [named] = decodePackIndex(hex("pack-index-blob"));
  assert.equal(named.pack, dataPack.id);
  assert.equal(named.metadata, false);
  assert.equal(named.length, dataPack.length);
  assert.deepEqual(named.blobs, dataPack.blobs.map(({ text: _, ...loc }: any) => loc));
});

/** The manifest JSON as encodeSnapshot() writes it (the decoded example, compact). */
function manifestJson(m: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}
