import assert from "node:assert/strict";
import { FormatError } from "./errors.ts";
import { compareNames, decodeTree, encodeTree, type Tree, type TreeNode, treeOf } from "./tree.ts";

const id = (c: string) => c.repeat(64);
const enc = new TextEncoder();
const dec = new TextDecoder();

const tree: Tree = {
  version: 1,
  nodes: [
    {
      name: "a.txt",
      type: "file",
      mode: 0o644,
      mtime: "1700000000123456789",
      uid: 1000,
      gid: 1000,
      size: 5,
      content: [id("1")],
    },
    { name: "empty", type: "file", mode: 0o600, mtime: "-5", size: 0, content: [] },
    {
      name: "hard",
      type: "file",
      mode: 0o4755,
      mtime: "0",
      size: 1,
      content: [id("2")],
      inode: "123",
      dev: "2049",
      links: 2,
    },
    { name: "link", type: "symlink", mode: 0o777, mtime: "1", target: "../elsewhere" },
    {
      name: "sub",
      type: "dir",
      mode: 0o1777,
      mtime: "2",
      atime: "3",
      ctime: "4",
      subtree: id("d"),
    },
    {
      name: "\u00e9t\u00e9 \ud83d\ude00",
      type: "file",
      mode: 0o644,
      mtime: "5",
      size: 0,
      content: [],
    },
  ],
};

Deno.test("decodeTree() returns the tree encodeTree() wrote", () => {
  assert.deepEqual(decodeTree(encodeTree(tree)), tree);
  assert.deepEqual(decodeTree(encodeTree({ version: 1, nodes: [] })), { version: 1, nodes: [] });
});

Deno.test("encodeTree() is canonical: field order of the input does not change the bytes", () => {
  const shuffled: Tree = {
    version: 1,
    nodes: tree.nodes.map((n) => Object.fromEntries(Object.entries(n).reverse()) as TreeNode),
  };
  assert.deepEqual(encodeTree(shuffled), encodeTree(tree));
  const first = JSON.parse(dec.decode(encodeTree(tree))).nodes[0];
  assert.deepEqual(Object.keys(first), [
    "name",
    "type",
    "mode",
    "mtime",
    "uid",
    "gid",
    "size",
    "content",
  ]);
});

Deno.test("compareNames() orders by UTF-8 bytes, not UTF-16 code units", () => {
  // U+FFFD sorts before U+1F600 in UTF-8 (EF.. < F0..), after it in UTF-16 (FFFD > D83D).
  assert.ok(compareNames("\ufffd", "\ud83d\ude00") < 0);
  assert.ok("\ufffd" > "\ud83d\ude00");
  assert.ok(compareNames("a", "ab") < 0);
  assert.ok(compareNames("B", "a") < 0);
  assert.equal(compareNames("x\ud83d\ude00", "x\ud83d\ude00"), 0);
  const names = ["\ud83d\ude00", "\ufffd", "z", "Z", "\u00e9"];
  assert.deepEqual(names.sort(compareNames), ["Z", "z", "\u00e9", "\ufffd", "\ud83d\ude00"]);
});

Deno.test("encodeTree() refuses unsorted or repeated names", () => {
  const [a, b] = tree.nodes;
  assert.throws(() => encodeTree({ version: 1, nodes: [b, a] }), /out of order or repeated/);
  assert.throws(() => encodeTree({ version: 1, nodes: [a, a] }), FormatError);
});

Deno.test("encodeTree() refuses names that are not one path component", () => {
  const base = tree.nodes[1];
  for (const name of ["", ".", "..", "a/b", "nul\0", "\ud800"]) {
    assert.throws(() => encodeTree({ version: 1, nodes: [{ ...base, name }] }), {
      name: "FormatError",
      message: /"nodes\[0\]\.name"/,
    });
  }
});

Deno.test("a node carrying another type's fields, or missing its own, is a FormatError", () => {
  const file = tree.nodes[0];
  const bad: TreeNode[] = [
    { ...file, subtree: id("e") },
    { ...file, content: undefined },
    { name: "d", type: "dir", mode: 0o755, mtime: "0" },
    { name: "d", type: "dir", mode: 0o755, mtime: "0", subtree: id("e"), size: 3 },
    { name: "l", type: "symlink", mode: 0o777, mtime: "0" },
    { ...file, mode: 0o10000 },
    { ...file, mtime: "1.5" },
    { ...file, mtime: "007" },
    { ...file, content: ["ABC"] },
    { ...file, inode: "1" },
    { ...file, inode: "1", dev: "2", links: 1 },
  ];
  for (const node of bad) {
    assert.throws(
      () => encodeTree({ version: 1, nodes: [node] }),
      FormatError,
      JSON.stringify(node),
    );
  }
});

Deno.test("decodeTree() refuses unknown fields, versions and non-JSON", () => {
  const good = JSON.parse(dec.decode(encodeTree(tree)));
  good.nodes[0].xattrs = {};
  assert.throws(() => decodeTree(enc.encode(JSON.stringify(good))), /"nodes\[0\]\.xattrs"/);
  assert.throws(() => decodeTree(enc.encode('{"version":2,"nodes":[]}')), FormatError);
  assert.throws(() => decodeTree(enc.encode("not json")), FormatError);
});

Deno.test("treeOf() keeps a tree without extended attributes at version 1, byte for byte", () => {
  assert.equal(treeOf(tree.nodes).version, 1);
  assert.deepEqual(encodeTree(treeOf(tree.nodes)), encodeTree(tree));
});

Deno.test("a tree with extended attributes is version 2, and decodes to the same attributes", () => {
  const nodes: TreeNode[] = [
    { ...tree.nodes[0], xattrs: [["user.a", "aGk="], ["user.b", ""], ["user.\u00e9", "AA=="]] },
    tree.nodes[1],
  ];
  const t = treeOf(nodes);
  assert.equal(t.version, 2);
  const bytes = encodeTree(t);
  // The last field of a node, after the others in their §8 order.
  assert.match(dec.decode(bytes), /"content":\["1{64}"\],"xattrs":\[\["user\.a","aGk="\],/);
  assert.deepEqual(decodeTree(bytes), t);
});

Deno.test("extended attributes that break the rules of docs/format.md §8 are a FormatError", () => {
  const withXattrs = (xattrs: unknown, version = 2) =>
    enc.encode(JSON.stringify({ version, nodes: [{ ...tree.nodes[1], xattrs }] }));
  decodeTree(withXattrs([["user.a", "aGk="]])); // the valid form
  const bad: [unknown, RegExp][] = [
    [[], /must not be empty/],
    [[["user.b", ""], ["user.a", ""]], /out of order or repeated/],
    [[["user.a", ""], ["user.a", ""]], /out of order or repeated/],
    [[["user.a"]], /pair of strings/],
    [[["", ""]], /invalid name/],
    [[["user.\0", ""]], /invalid name/],
    [[["user." + "x".repeat(251), ""]], /invalid name/],
    [[["user.a", "aGk"]], /canonical padded base64/],
    [[["user.a", "aGl="]], /canonical padded base64/], // non-zero padding bits
    [[["user.a", new Uint8Array(65537).toBase64()]], /at most 65536/],
  ];
  for (const [xattrs, message] of bad) {
    assert.throws(() => decodeTree(withXattrs(xattrs)), message, JSON.stringify(xattrs));
  }
  // Version 1 has no such field, and version 2 needs one node that has it.
  assert.throws(() => decodeTree(withXattrs([["user.a", ""]], 1)), /not part of this format/);
  const v2 = { version: 2, nodes: [tree.nodes[1]] };
  assert.throws(() => decodeTree(enc.encode(JSON.stringify(v2))), /must be version 1/);
  assert.throws(() => encodeTree({ version: 1, nodes: [{ ...tree.nodes[1], xattrs: [] }] }));
});

Deno.test("a tree of a version newer than this reader knows says to upgrade", () => {
  const bytes = new TextEncoder().encode('{"version":4,"nodes":[]}');
  assert.throws(() => decodeTree(bytes), /written by a newer version of Permafrost: upgrade/);
  assert.throws(
    () => decodeTree(new TextEncoder().encode('{"version":0,"nodes":[]}')),
    (err: Error) => !/upgrade/.test(err.message),
  );
});

Deno.test("a mirrored file makes its tree version 3, and a mirror that breaks the rules of docs/format.md §8 is a FormatError", () => {
  const sha256 = "ab".repeat(32);
  const file = {
    name: "a.txt",
    type: "file" as const,
    mode: 0o644,
    mtime: "0",
    size: 3,
    content: [],
    mirror: { class: "STANDARD" as const, sha256, key: "mirror/src/a.txt", version: "v1" },
  };
  const tree = treeOf([file]);
  assert.equal(tree.version, 3);
  const text = new TextDecoder().decode(encodeTree(tree));
  assert.match(text, /"mirror":\{"key":"mirror\/src\/a.txt","version":"v1","sha256":"a/);
  assert.deepEqual(decodeTree(encodeTree(tree)).nodes[0].mirror, file.mirror);
  const bad = (node: Record<string, unknown>, version = 3) =>
    new TextEncoder().encode(JSON.stringify({ version, nodes: [{ ...file, ...node }] }));
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { mirror: { ...file.mirror, key: "packs/x" } },
      /"nodes\[0\]\.mirror\.key" must be an object name under "mirror\//,
    ],
    [{ mirror: { ...file.mirror, key: "mirror/src/../x" } }, /mirror\.key/],
    [{ mirror: { ...file.mirror, key: "mirror/a" } }, /mirror\.key/],
    [{ mirror: { ...file.mirror, sha256: "xyz" } }, /mirror\.sha256" must be 64 lowercase hex/],
    [{ mirror: { ...file.mirror, class: "COLD" } }, /mirror\.class" must be one of/],
    [{ mirror: { ...file.mirror, version: "" } }, /mirror\.version" must not be empty/],
    [{ mirror: { ...file.mirror, extra: 1 } }, /mirror\.extra/],
    [{ content: [sha256] }, /"nodes\[0\]\.content" must be \[\] on a mirrored file/],
  ];
  for (const [node, expected] of cases) {
    assert.throws(
      () => decodeTree(bad(node)),
      (e: Error) => e instanceof FormatError && expected.test(e.message),
      JSON.stringify(node),
    );
  }
  assert.throws(() => decodeTree(bad({}, 2)), FormatError); // mirror needs version 3
  assert.throws(
    () => decodeTree(new TextEncoder().encode('{"version":3,"nodes":[]}')),
    /tree version 3 has no node with a mirrored file/,
  );
  const dir = {
    name: "d",
    type: "dir",
    mode: 0o755,
    mtime: "0",
    subtree: sha256,
    mirror: file.mirror,
  };
  assert.throws(
    () =>
      decodeTree(
        new TextEncoder().encode(
          JSON.stringify({ version: 3, nodes: [dir, { ...file, name: "e" }] }),
        ),
      ),
    /must not appear on a dir node/,
  );
});

Deno.test("a sealed mirror (docs/format.md §8.1) encodes after class, and sealed is only true and only with a .sealed/<id> key", () => {
  const sha256 = "cd".repeat(32);
  const sealedKey = `mirror/src/.sealed/${"ef".repeat(32)}`;
  const file = {
    name: "a.txt",
    type: "file" as const,
    mode: 0o644,
    mtime: "0",
    size: 3,
    content: [],
    mirror: { sealed: true as const, class: "STANDARD" as const, sha256, key: sealedKey },
  };
  const text = new TextDecoder().decode(encodeTree(treeOf([file])));
  assert.match(
    text,
    /"mirror":\{"key":"mirror\/src\/\.sealed\/(ef)+","sha256":"(cd)+","class":"STANDARD","sealed":true\}/,
  );
  assert.deepEqual(decodeTree(encodeTree(treeOf([file]))).nodes[0].mirror, file.mirror);
  const bad = (mirror: Record<string, unknown>) =>
    new TextEncoder().encode(
      JSON.stringify({ version: 3, nodes: [{ ...file, mirror: { ...file.mirror, ...mirror } }] }),
    );
  for (
    const [mirror, expected] of [
      [{ sealed: false }, /mirror\.sealed" must be true/],
      [{ sealed: 1 }, /mirror\.sealed" must be true/],
      [{ key: "mirror/src/a.txt" }, /mirror\.sealed" must name an object "mirror\/<source>\//],
      [{ key: `${sealedKey}/x` }, /mirror\.sealed" must name an object/],
    ] as [Record<string, unknown>, RegExp][]
  ) {
    assert.throws(
      () => decodeTree(bad(mirror)),
      (e: Error) => e instanceof FormatError && expected.test(e.message),
      JSON.stringify(mirror),
    );
  }
});
