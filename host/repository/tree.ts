/**
 * Trees (docs/format.md §8): one directory, stored as a blob of type "tree" in a metadata pack.
 * Canonical UTF-8 JSON `{"version":1,"nodes":[...]}` with node fields in a fixed order and
 * absent optional fields omitted, so equal directories encode to equal bytes (and dedup).
 * Version 2 is version 1 plus nodes' extended attributes (`xattrs`); a tree is version 2 only
 * when a node has some (`treeOf`), so every other tree keeps the bytes and id it had. Version 3
 * is version 2 plus mirrored files (`mirror`, the `sync` engine), and only when a node has one.
 *
 * @module
 */

import { utf8 } from "../crypto/bytes.ts";
import { FormatError } from "./errors.ts";
import { Fields, isHex64, parseJson } from "./_fields.ts";
import { compareNames } from "../../plugins/sdk/names.ts";
import { storageClasses } from "../../plugins/sdk/storage_types.ts";

/**
 * One entry of a directory. The shape is the host/engine wire contract, so it lives in the
 * plugin SDK (`plugins/sdk/tree_node.ts`); this module validates and encodes it.
 */
export type { MirrorRef, TreeNode } from "../../plugins/sdk/tree_node.ts";
import type { MirrorRef, TreeNode } from "../../plugins/sdk/tree_node.ts";

/** A directory: `nodes` sorted by name in UTF-8 byte order, names unique. */
export interface Tree {
  /** 3 when some node has `mirror`, else 2 when some has `xattrs`, else 1 (docs/format.md §8). */
  version: 1 | 2 | 3;
  nodes: TreeNode[];
}

/**
 * The tree of `nodes` at the lowest version that holds them: 3 only with mirrored files, 2 only
 * with extended attributes.
 */
export function treeOf(nodes: TreeNode[]): Tree {
  const version = nodes.some((n) => n.mirror !== undefined)
    ? 3
    : nodes.some((n) => n.xattrs !== undefined)
    ? 2
    : 1;
  return { version, nodes };
}

/** Where mirrored files' objects live (docs/format.md §2): every `mirror.key` starts so. */
export const MIRROR_PREFIX = "mirror/";

/** Limits on one extended attribute (Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX). */
const XATTR_NAME_BYTES = 255;
const XATTR_VALUE_BYTES = 65536;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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
  "xattrs",
  "mirror",
] as const;

const TYPE_FIELDS: Record<TreeNode["type"], readonly string[]> = {
  file: ["size", "content"],
  dir: ["subtree"],
  symlink: ["target"],
};

/**
 * Orders names by their UTF-8 bytes (= code point order); use it to sort nodes before encoding.
 * One function for host and engines, in the SDK.
 */
export { compareNames };

/** The canonical bytes of `tree`. Throws `FormatError` when it breaks an invariant above. */
export function encodeTree(tree: Tree): Uint8Array {
  const nodes = tree.nodes.map((node) => {
    const ordered: Record<string, unknown> = {};
    for (const key of NODE_FIELDS) if (node[key] !== undefined) ordered[key] = node[key];
    const m = node.mirror;
    if (m) ordered.mirror = mirrorRef(m.key, m.version, m.sha256, m.class, m.sealed);
    return ordered;
  });
  const bytes = utf8(JSON.stringify({ version: tree.version, nodes }));
  decodeTree(bytes); // validates exactly what a reader will check
  return bytes;
}

/** Parses and validates a tree blob; `FormatError` naming the node and field. */
export function decodeTree(bytes: Uint8Array): Tree {
  const f = new Fields(parseJson(bytes, "tree"), "tree");
  const version = f.literal("version", [1, 2, 3]);
  const raw = f.array("nodes");
  f.done();
  const nodes = raw.map((value, i) => readNode(new Fields(value, "tree", `nodes[${i}].`), version));
  if (version === 2 && !nodes.some((n) => n.xattrs !== undefined)) {
    throw new FormatError(
      "tree version 2 has no node with extended attributes (must be version 1)",
    );
  }
  if (version === 3 && !nodes.some((n) => n.mirror !== undefined)) {
    throw new FormatError(
      "tree version 3 has no node with a mirrored file (must be version 1 or 2)",
    );
  }
  for (let i = 1; i < nodes.length; i++) {
    if (compareNames(nodes[i - 1].name, nodes[i].name) >= 0) {
      throw new FormatError(
        `tree nodes "${nodes[i - 1].name}" and "${nodes[i].name}" are out of order or repeated`,
      );
    }
  }
  return { version, nodes };
}

function readNode(f: Fields, version: 1 | 2 | 3): TreeNode {
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
  if (version >= 2 && f.has("xattrs")) node.xattrs = readXattrs(f);
  if (version === 3 && f.has("mirror")) {
    if (type !== "file") throw f.error("mirror", `must not appear on a ${type} node`);
    if (node.content!.length > 0) throw f.error("content", "must be [] on a mirrored file");
    node.mirror = readMirror(f);
  }
  f.done();
  return node;
}

/**
 * A file node's `mirror` (tree version 3): `key` a valid object name under `mirror/`, `version`
 * a non-empty string when present, `sha256` 64 lowercase hex digits, `class` a storage class.
 */
function readMirror(f: Fields): MirrorRef {
  const m = f.object("mirror");
  const key = m.string("key");
  const parts = key.split("/");
  if (
    !key.startsWith(MIRROR_PREFIX) || parts.length < 3 || /[\\\0]/.test(key) ||
    !key.isWellFormed() || !parts.every((s) => s !== "" && s !== "." && s !== "..")
  ) {
    throw m.error("key", `must be an object name under "${MIRROR_PREFIX}<source>/"`);
  }
  let version: string | undefined;
  if (m.has("version")) {
    version = m.string("version");
    if (version === "") throw m.error("version", "must not be empty (omit the field instead)");
  }
  const sha256 = m.hex64("sha256");
  const storageClass = m.literal("class", storageClasses);
  let sealed: true | undefined;
  if (m.has("sealed")) {
    // docs/format.md §8.1: only `true`, and only for an object under `.sealed/`.
    if (m.raw("sealed") !== true) throw m.error("sealed", "must be true (omit the field instead)");
    if (parts[2] !== ".sealed" || parts.length !== 4) {
      throw m.error("sealed", `must name an object "mirror/<source>/.sealed/<id>"`);
    }
    sealed = true;
  }
  m.done();
  return mirrorRef(key, version, sha256, storageClass, sealed);
}

/** A mirror reference with its fields in the canonical order (docs/format.md §8). */
function mirrorRef(
  key: string,
  version: string | undefined,
  sha256: string,
  storageClass: MirrorRef["class"],
  sealed?: true,
): MirrorRef {
  return {
    key,
    ...(version !== undefined ? { version } : {}),
    sha256,
    class: storageClass,
    ...(sealed ? { sealed } : {}),
  };
}

/**
 * A node's `xattrs` (tree version 2): a non-empty array of [name, value] pairs, names unique and
 * in UTF-8 byte order, 1..255 bytes without NUL; values canonical padded base64 of at most
 * 65,536 bytes.
 */
function readXattrs(f: Fields): [string, string][] {
  const raw = f.array("xattrs");
  if (raw.length === 0) throw f.error("xattrs", "must not be empty (omit the field instead)");
  const pairs = raw.map((pair, j): [string, string] => {
    const at = `xattrs[${j}]`;
    if (
      !Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" ||
      typeof pair[1] !== "string"
    ) {
      throw f.error(at, "must be a [name, value] pair of strings");
    }
    const [name, value] = pair;
    const nameBytes = utf8(name).length;
    if (
      nameBytes === 0 || nameBytes > XATTR_NAME_BYTES || name.includes("\0") || !name.isWellFormed()
    ) {
      throw f.error(at, `has an invalid name ${JSON.stringify(name)}`);
    }
    const bytes = BASE64.test(value) ? Uint8Array.fromBase64(value) : undefined;
    if (bytes === undefined || bytes.toBase64() !== value) {
      throw f.error(at, "must have a canonical padded base64 value");
    }
    if (bytes.length > XATTR_VALUE_BYTES) {
      throw f.error(at, `has a value of ${bytes.length} bytes (at most ${XATTR_VALUE_BYTES})`);
    }
    return [name, value];
  });
  for (let j = 1; j < pairs.length; j++) {
    if (compareNames(pairs[j - 1][0], pairs[j][0]) >= 0) {
      throw f.error(`xattrs[${j}]`, "is out of order or repeated");
    }
  }
  return pairs;
}
