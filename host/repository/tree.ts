/**
 * Trees (docs/format.md §8): one directory, stored as a blob of type "tree" in a metadata pack.
 * Canonical UTF-8 JSON `{"version":1,"nodes":[...]}` with node fields in a fixed order and
 * absent optional fields omitted, so equal directories encode to equal bytes (and dedup).
 *
 * @module
 */

import { utf8 } from "../crypto/bytes.ts";
import { FormatError } from "./errors.ts";
import { Fields, isHex64, parseJson } from "./_fields.ts";

/**
 * One entry of a directory. The shape is the host/engine wire contract, so it lives in the
 * plugin SDK (`plugins/sdk/tree_node.ts`); this module validates and encodes it.
 */
export type { TreeNode } from "../../plugins/sdk/tree_node.ts";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";

/** A directory: `nodes` sorted by name in UTF-8 byte order, names unique. */
export interface Tree {
  version: 1;
  nodes: TreeNode[];
}

const NODE_FIELDS = [
  "name",
  "type",
  "mode",
  "mtime",
  "atime",
  "ctime",
  "uid",
  "gid",
  "size",
  "content",
  "subtree",
  "target",
  "inode",
  "dev",
  "links",
] as const;

const TYPE_FIELDS: Record<TreeNode["type"], readonly string[]> = {
  file: ["size", "content"],
  dir: ["subtree"],
  symlink: ["target"],
};

/** Orders names by their UTF-8 bytes (= code point order); use it to sort nodes before encoding. */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** The canonical bytes of `tree`. Throws `FormatError` when it breaks an invariant above. */
export function encodeTree(tree: Tree): Uint8Array {
  const nodes = tree.nodes.map((node) => {
    const ordered: Record<string, unknown> = {};
    for (const key of NODE_FIELDS) if (node[key] !== undefined) ordered[key] = node[key];
    return ordered;
  });
  const bytes = utf8(JSON.stringify({ version: tree.version, nodes }));
  decodeTree(bytes); // validates exactly what a reader will check
  return bytes;
}

/** Parses and validates a tree blob; `FormatError` naming the node and field. */
export function decodeTree(bytes: Uint8Array): Tree {
  const f = new Fields(parseJson(bytes, "tree"), "tree");
  f.literal("version", [1]);
  const raw = f.array("nodes");
  f.done();
  const nodes = raw.map((value, i) => readNode(new Fields(value, "tree", `nodes[${i}].`)));
  for (let i = 1; i < nodes.length; i++) {
    if (compareNames(nodes[i - 1].name, nodes[i].name) >= 0) {
      throw new FormatError(
        `tree nodes "${nodes[i - 1].name}" and "${nodes[i].name}" are out of order or repeated`,
      );
    }
  }
  return { version: 1, nodes };
}

function readNode(f: Fields): TreeNode {
  const name = f.string("name");
  if (
    name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0") ||
    !name.isWellFormed()
  ) {
    throw f.error("name", `is not a valid path component: ${JSON.stringify(name)}`);
  }
  const type = f.literal("type", ["file", "dir", "symlink"] as const);
  const node: TreeNode = { name, type, mode: f.int("mode", 0, 0o7777), mtime: f.decimal("mtime") };
  if (f.has("atime")) node.atime = f.decimal("atime");
  if (f.has("ctime")) node.ctime = f.decimal("ctime");
  if (f.has("uid")) node.uid = f.int("uid", 0, 0xffffffff);
  if (f.has("gid")) node.gid = f.int("gid", 0, 0xffffffff);
  for (const key of ["size", "content", "subtree", "target"]) {
    if (f.has(key) && !TYPE_FIELDS[type].includes(key)) {
      throw f.error(key, `must not appear on a ${type} node`);
    }
  }
  if (type === "file") {
    node.size = f.int("size", 0);
    node.content = f.array("content").map((id, j) => {
      if (!isHex64(id)) {
        throw f.error(`content[${j}]`, "must be a 64-digit lowercase hex blob id");
      }
      return id;
    });
  } else if (type === "dir") {
    node.subtree = f.hex64("subtree");
  } else {
    node.target = f.string("target");
    if (node.target === "" || node.target.includes("\0")) {
      throw f.error("target", "must be a non-empty string without NUL");
    }
  }
  const link = ["inode", "dev", "links"].filter((k) => f.has(k));
  if (link.length > 0) {
    if (link.length !== 3) throw f.error(link[0], 'must come with all of "inode", "dev", "links"');
    if (type === "dir") throw f.error("links", "must not appear on a dir node");
    node.inode = f.decimal("inode");
    node.dev = f.decimal("dev");
    if (node.inode.startsWith("-")) throw f.error("inode", "must not be negative");
    if (node.dev.startsWith("-")) throw f.error("dev", "must not be negative");
    node.links = f.int("links", 2, 0xffffffff);
  }
  f.done();
  return node;
}
