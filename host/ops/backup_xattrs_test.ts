import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BackupXattrs } from "./backup_xattrs.ts";
import { userXattrsAt, writeXattr, xattrsSupported } from "../fs/xattr.ts";
import type { TreeNode } from "../repository/tree.ts";

const file = (name: string): TreeNode => ({
  name,
  type: "file",
  mode: 0o644,
  mtime: "0",
  size: 0,
  content: [],
});

Deno.test("BackupXattrs refuses a directory outside the sources, or an entry name that leaves it", () => {
  const x = new BackupXattrs(["/data/src"], () => {});
  for (const dir of ["/etc", "/data/src2", "/data/src/../../etc", "relative", 7]) {
    assert.throws(() => x.directory(dir, [file("a")]), TypeError, String(dir));
  }
  for (const name of ["..", ".", "", "../../etc/passwd", "a\0b"]) {
    assert.throws(() => x.directory("/data/src", [file(name)]), /is not a file name/, name);
  }
  x.directory(undefined, [file("a")]); // an engine that names none gets nothing read
  assert.deepEqual(new BackupXattrs(["/"], () => {}).notKept.length, xattrsSupported() ? 0 : 1);
});

Deno.test("BackupXattrs drops the extended attributes an engine made up on a tree it names no directory for", () => {
  const x = new BackupXattrs(["/data/src"], () => {});
  const made = () => ({
    ...file("a"),
    xattrs: [["security.capability", "AQAAAg=="]] as [string, string][],
  });
  const nodes = [made()];
  x.directory(undefined, nodes);
  assert.equal(nodes[0].xattrs, undefined);
  const root = made();
  x.entry(undefined, root); // a root entry beyond the sources
  assert.equal(root.xattrs, undefined);
});

Deno.test({
  name: "BackupXattrs sets what it reads on the nodes, sorted, and drops what an engine made up",
  // Linux only (host/fs/xattr.ts), where the temporary folder takes user.* attributes.
  ignore: !userXattrsAt(os.tmpdir()),
  fn() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-xattrs-"));
    try {
      fs.writeFileSync(path.join(dir, "a"), "");
      fs.writeFileSync(path.join(dir, "b"), "");
      writeXattr(path.join(dir, "a"), "user.z", new TextEncoder().encode("last"));
      writeXattr(path.join(dir, "a"), "user.a", new Uint8Array([0, 255]));
      const warnings: string[] = [];
      const x = new BackupXattrs([dir], (p, reason) => warnings.push(`${p}: ${reason}`));
      const nodes = [file("a"), {
        ...file("b"),
        xattrs: [["user.forged", ""]] as [string, string][],
      }];
      x.directory(dir, nodes);
      assert.deepEqual(nodes[0].xattrs, [["user.a", "AP8="], ["user.z", "bGFzdA=="]]);
      assert.equal(nodes[1].xattrs, undefined);

      // An entry that vanished before its attributes were read is kept without them, named.
      x.directory(dir, [file("gone")]);
      assert.equal(x.notKept.length, 1);
      assert.match(x.notKept[0].reason, /extended attributes not kept: .*No such file/);
      assert.deepEqual(warnings, [`${x.notKept[0].path}: ${x.notKept[0].reason}`]);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  },
});
