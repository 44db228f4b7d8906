/**
 * `permafrost mount` through the real CLI and a real FUSE mount (docs/mount.md): what `ls -l`
 * shows, byte-exact reads, refused writes, cold reads, and the three ways a mount ends. Skipped,
 * saying why, where FUSE is not usable (`test/rig/fuse.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import { readXattrs, userXattrsAt, writeXattr } from "../host/fs/xattr.ts";
import { mountSnapshots } from "../host/mount/mount.ts";
import { backup } from "../host/ops/backup.ts";
import { fuseMissing } from "./rig/fuse.ts";
import {
  cli,
  coldSampleRepo,
  describeTree,
  finishColdRestores,
  initColdRepo,
  newRepo,
  randomBytes,
  reopen,
  spawnCli,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

const missing = fuseMissing();
if (missing !== undefined) console.warn(`test/mount_test.ts skipped: ${missing}`);

/** A test that needs FUSE. */
function mountTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: missing !== undefined, fn });
}

/** A running `permafrost mount`: its stderr so far, and a wait for a line on it. */
interface Running {
  child: Deno.ChildProcess;
  dir: string;
  stderr(): string;
  /** Resolves once stderr matches `pattern` (rejects if the mount ends first). */
  waitFor(pattern: RegExp): Promise<void>;
  /** Resolves when stderr has ended (the process closed it). */
  ended: Promise<void>;
}

/** Starts `permafrost mount DIR` on `repo` and resolves once it says it is mounted. */
async function mount(repo: string, args: string[] = []): Promise<Running> {
  const dir = await tempDir("pf-mnt-");
  const child = spawnCli(["mount", dir, ...args], { PERMAFROST_REPO: repo });
  let text = "";
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const settle = (done: boolean) => {
    for (const w of [...waiters]) {
      if (w.pattern.test(text)) w.resolve();
      else if (done) w.reject(new Error(`the mount ended without printing ${w.pattern}: ${text}`));
      else continue;
      waiters.splice(waiters.indexOf(w), 1);
    }
  };
  const ended = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      settle(false);
    }
    settle(true);
  })();
  const running: Running = {
    child,
    dir,
    stderr: () => text,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        settle(false);
      }),
    ended,
  };
  await running.waitFor(/mounted read-only/);
  return running;
}

/** Unmounts with `permafrost umount` and asserts the mount's process exited 0. */
async function unmount(m: Running): Promise<void> {
  const out = await cli(["umount", m.dir]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal((await m.child.status).code, 0, m.stderr());
  await m.ended;
  await m.child.stdout.cancel();
}

/** Whether `dir` is a mount point now (from the kernel's mount table). */
function isMounted(dir: string): boolean {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
    .some((line) => line.split(" ")[4] === dir);
}

/** describeTree without hard-link groups: each name in a mount is its own inode. */
function contents(root: string): Record<string, string> {
  const out = describeTree(root);
  for (const k of Object.keys(out)) out[k] = out[k].replace(/ link=.*$/, "");
  delete out["."]; // the source folder's own entry is compared on its own
  return out;
}

/** A repository with two snapshots of one folder, and what the folder held at each. */
let shared:
  | Promise<
    {
      repo: string;
      src: string;
      first: string;
      second: string;
      before: Record<string, string>;
      after: Record<string, string>;
    }
  >
  | undefined;

function twoSnapshots() {
  return shared ??= (async () => {
    const { dir, repo } = await newRepo();
    const src = join(await tempDir(), "src");
    fs.mkdirSync(src);
    writeSampleTree(src);
    const before = contents(src);
    const first = (await backup(repo, { paths: [src] })).id!;
    fs.writeFileSync(join(src, "hello.txt"), "hello again, changed\n");
    fs.writeFileSync(join(src, "added.txt"), "only in the second snapshot\n");
    fs.utimesSync(
      join(src, "hello.txt"),
      new Date("2022-01-02T03:04:05Z"),
      new Date("2022-01-02T03:04:05Z"),
    );
    const after = contents(src);
    const second = (await backup(repo, { paths: [src] })).id!;
    await repo.storage.close();
    return { repo: dir, src, first, second, before, after };
  })();
}

mountTest(
  "mount shows each snapshot by id, by date and as latest, as ls -l would list it",
  async () => {
    const s = await twoSnapshots();
    const m = await mount(s.repo);
    try {
      const ids = fs.readdirSync(join(m.dir, "ids")).sort();
      assert.deepEqual(ids, [s.first.slice(0, 8), s.second.slice(0, 8)].sort());
      assert.equal(fs.readlinkSync(join(m.dir, "latest")), `ids/${s.second.slice(0, 8)}`);
      const dates = fs.readdirSync(join(m.dir, "dates"));
      assert.equal(dates.length, 2);
      for (const d of dates) assert.match(fs.readlinkSync(join(m.dir, "dates", d)), /^\.\.\/ids\//);
      // Names, types, modes, mtimes, symlink targets, sizes and every byte (SHA-256) of each.
      const name = basename(s.src);
      assert.deepEqual(contents(join(m.dir, "ids", s.first.slice(0, 8), name)), s.before);
      assert.deepEqual(contents(join(m.dir, "latest", name)), s.after);
      const ls = await new Deno.Command("ls", {
        args: ["-l", "--time-style=+%Y-%m-%dT%H:%M:%S", join(m.dir, "latest", name)],
        env: { LC_ALL: "C", TZ: "UTC" },
      }).output();
      const listing = new TextDecoder().decode(ls.stdout);
      assert.match(listing, /^-rw-r--r-- 1 \S+ \S+ +21 2022-01-02T03:04:05 hello\.txt$/m);
      assert.match(
        listing,
        /^lrwxrwxrwx 1 \S+ \S+ +9 2021-03-04T05:06:07 link-to-hello -> hello\.txt$/m,
      );
      assert.match(listing, /^-rw-r--r-- 1 \S+ \S+ +0 \S+ empty$/m);
      assert.match(listing, /^drwxr-xr-x 2 \S+ \S+ +0 \S+ docs$/m);
    } finally {
      await unmount(m);
    }
  },
);

mountTest("a mounted file reads byte for byte as the file that was backed up", async () => {
  const s = await twoSnapshots();
  const m = await mount(s.repo);
  try {
    const file = join(m.dir, "latest", basename(s.src), "big", "random.bin");
    const cmp = await new Deno.Command("cmp", { args: [file, join(s.src, "big", "random.bin")] })
      .output();
    assert.equal(cmp.code, 0, new TextDecoder().decode(cmp.stdout));
    // A read in the middle of a file, across a chunk boundary (chunks are 16-256 KiB here).
    const handle = await Deno.open(file);
    const part = new Uint8Array(300_000);
    await handle.seek(123_457, Deno.SeekMode.Start);
    let got = 0;
    while (got < part.length) got += (await handle.read(part.subarray(got)))!;
    handle.close();
    const whole = fs.readFileSync(join(s.src, "big", "random.bin"));
    assert.deepEqual(part, new Uint8Array(whole.subarray(123_457, 123_457 + part.length)));
  } finally {
    await unmount(m);
  }
});

mountTest("every write to a mount fails with EROFS", async () => {
  const s = await twoSnapshots();
  const m = await mount(s.repo);
  const root = join(m.dir, "latest", basename(s.src));
  const erofs = (f: () => unknown, what: string) =>
    assert.throws(f, (e: NodeJS.ErrnoException) => e.code === "EROFS", what);
  try {
    erofs(() => fs.writeFileSync(join(root, "hello.txt"), "x"), "overwrite");
    erofs(() => fs.writeFileSync(join(root, "new.txt"), "x"), "create");
    erofs(() => fs.appendFileSync(join(root, "hello.txt"), "x"), "append");
    erofs(() => fs.mkdirSync(join(root, "newdir")), "mkdir");
    erofs(() => fs.unlinkSync(join(root, "hello.txt")), "unlink");
    erofs(() => fs.rmdirSync(join(root, "emptydir")), "rmdir");
    erofs(() => fs.renameSync(join(root, "hello.txt"), join(root, "moved.txt")), "rename");
    erofs(() => fs.chmodSync(join(root, "hello.txt"), 0o777), "chmod");
    erofs(() => fs.utimesSync(join(root, "hello.txt"), new Date(), new Date()), "utimes");
    erofs(() => fs.symlinkSync("x", join(root, "newlink")), "symlink");
    erofs(() => fs.truncateSync(join(root, "hello.txt"), 0), "truncate");
    erofs(() => fs.writeFileSync(join(m.dir, "ids", "x"), "x"), "create at the top level");
    assert.equal(fs.readFileSync(join(root, "hello.txt"), "utf8"), "hello again, changed\n");
  } finally {
    await unmount(m);
  }
});

mountTest(
  "a read of a file in cold storage fails with EIO at once, saying what to run",
  async () => {
    const { dir, location, repo, src } = await coldSampleRepo();
    await repo.storage.close();
    const m = await mount(location);
    try {
      const file = join(m.dir, "latest", basename(src), "big", "random.bin");
      assert.equal(fs.statSync(file).size, 700 << 10); // metadata is hot
      assert.throws(() => fs.readFileSync(file), (e: NodeJS.ErrnoException) => e.code === "EIO");
      await m.waitFor(/is in cold storage/);
      const line = m.stderr().split("\n").find((l) => l.includes("is in cold storage"))!;
      assert.match(line, new RegExp(`"ids/[0-9a-f]{8}/${basename(src)}/big/random\\.bin"`));
      assert.match(line, /\(\d+ packs?: "[0-9a-f]{12}"/);
      assert.match(line, /its reads fail with EIO/);
      assert.match(
        line,
        /run `permafrost restore [0-9a-f]{8}:\/[^ ]+\/big\/random\.bin --target DIR`/,
      );
      // The mount asked for no restore: every pack is still archived, none being restored.
      const records = fs.readdirSync(join(dir, ".cold")).filter((f) => f.endsWith(".json"));
      assert.notEqual(records.length, 0);
      for (const r of records) {
        assert.equal(JSON.parse(fs.readFileSync(join(dir, ".cold", r), "utf8")).restore, undefined);
      }
    } finally {
      await unmount(m);
    }
  },
);

mountTest("Ctrl-C (SIGINT) unmounts, and the mount exits 0", async () => {
  const s = await twoSnapshots();
  const m = await mount(s.repo);
  assert.equal(isMounted(m.dir), true);
  m.child.kill("SIGINT");
  assert.equal((await m.child.status).code, 0, m.stderr());
  await m.ended;
  await m.child.stdout.cancel();
  assert.equal(isMounted(m.dir), false);
  assert.match(m.stderr(), /unmounted/);
  assert.deepEqual(fs.readdirSync(m.dir), []);
});

mountTest("permafrost umount unmounts, and refuses a folder that is no mount", async () => {
  const s = await twoSnapshots();
  const m = await mount(s.repo);
  await unmount(m);
  assert.equal(isMounted(m.dir), false);
  const again = await cli(["umount", m.dir]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not a folder a `permafrost mount` serves/);
});

mountTest("a mount killed with SIGKILL leaves nothing fusermount3 -u cannot clean", async () => {
  const s = await twoSnapshots();
  const m = await mount(s.repo);
  m.child.kill("SIGKILL");
  await m.child.status;
  await m.ended;
  await m.child.stdout.cancel();
  assert.equal(isMounted(m.dir), true);
  assert.throws(() => fs.readdirSync(m.dir), (e: NodeJS.ErrnoException) => e.code === "ENOTCONN");
  const out = await new Deno.Command("fusermount3", { args: ["-u", m.dir] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(isMounted(m.dir), false);
  assert.deepEqual(fs.readdirSync(m.dir), []);
});

mountTest(
  "a read of a damaged pack fails with EIO naming the pack, never with wrong bytes",
  async () => {
    const { dir, repo } = await newRepo();
    const src = await tempDir();
    fs.writeFileSync(join(src, "data.bin"), randomBytes(200_000, 3));
    await backup(repo, { paths: [src] });
    await repo.storage.close();
    const packs = fs.readdirSync(join(dir, "packs"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const data =
      packs.map((p) => ({ p, size: fs.statSync(p).size })).sort((a, b) => b.size - a.size)[0];
    const bytes = fs.readFileSync(data.p);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.chmodSync(data.p, 0o644);
    fs.writeFileSync(data.p, bytes);
    const m = await mount(dir);
    try {
      const file = join(m.dir, "latest", basename(src), "data.bin");
      assert.throws(() => fs.readFileSync(file), (e: NodeJS.ErrnoException) => e.code === "EIO");
      await m.waitFor(/cannot read/);
      assert.match(
        m.stderr(),
        new RegExp(`cannot read ".*data\\.bin": pack "${basename(data.p)}"`),
      );
    } finally {
      await unmount(m);
    }
  },
);

mountTest(
  "mount --thaw requests a cold file's restore, fails with EAGAIN, then reads it",
  async () => {
    const { dir, location, repo, src } = await coldSampleRepo();
    await repo.storage.close();
    const m = await mount(location, ["--thaw", "--yes"]);
    try {
      assert.match(m.stderr(), /--thaw: a read of a cold file requests its packs' restore, \$/);
      const file = join(m.dir, "latest", basename(src), "big", "random.bin");
      assert.throws(() => fs.readFileSync(file), (e: NodeJS.ErrnoException) => e.code === "EAGAIN");
      await m.waitFor(/requested the restore of \d+ packs? \(tier bulk, kept 1 day\)/);
      assert.match(m.stderr(), /read it again then\. Until then its reads fail with EAGAIN/);
      const records = fs.readdirSync(join(dir, ".cold")).filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(fs.readFileSync(join(dir, ".cold", f), "utf8")));
      assert.ok(records.some((r) => r.restore?.tier === "bulk"));
      finishColdRestores(dir);
      assert.deepEqual(fs.readFileSync(file), fs.readFileSync(join(src, "big", "random.bin")));
    } finally {
      await unmount(m);
    }
  },
);

Deno.test("mount --thaw without --yes is refused, with what S3 bills for it", async () => {
  const dir = await tempDir();
  const { location } = await initColdRepo();
  const out = await cli(["mount", dir, "--thaw"], { PERMAFROST_REPO: location });
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /--thaw requests the restore of each cold file .* per GB .*add --yes/);
  assert.equal(isMounted(dir), false);
});

mountTest("mount --snapshot serves one snapshot at the root, extended attributes too", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  fs.writeFileSync(join(src, "tagged.txt"), "tagged\n");
  const xattrs = userXattrsAt(src);
  if (xattrs) writeXattr(join(src, "tagged.txt"), "user.note", new TextEncoder().encode("kept"));
  const { id } = await backup(repo, { paths: [src] });
  await repo.storage.close();
  const m = await mount(dir, ["--snapshot", id!.slice(0, 8)]);
  try {
    assert.deepEqual(fs.readdirSync(m.dir), [basename(src)]);
    const file = join(m.dir, basename(src), "tagged.txt");
    assert.equal(fs.readFileSync(file, "utf8"), "tagged\n");
    if (xattrs) {
      const read = readXattrs(file).attrs.map(([n, v]) => [n, new TextDecoder().decode(v)]);
      assert.deepEqual(read, [["user.note", "kept"]]);
    }
  } finally {
    await unmount(m);
  }
});

mountTest(
  "a request still in flight when the mount ends is dropped, not answered into the freed session",
  async () => {
    const { dir, repo } = await newRepo();
    const src = await tempDir();
    fs.writeFileSync(join(src, "data.bin"), randomBytes(200_000, 5));
    await backup(repo, { paths: [src] });
    await repo.storage.close();
    const r = await reopen(dir);
    await r.loadIndex();
    // Every pack read waits for `go`, then fails: the first request that needs a tree stays
    // in flight until then, and its answer is an error the mount logs just before replying.
    const go = Promise.withResolvers<void>();
    const waiting = Promise.withResolvers<void>();
    r.readPack = async () => {
      waiting.resolve();
      await go.promise;
      throw new Error("the store went away");
    };
    const answered = Promise.withResolvers<string>();
    const mnt = await tempDir("pf-mnt-");
    const m = mountSnapshots(r, await r.snapshots(), mnt, { log: answered.resolve });
    try {
      const cat = new Deno.Command("cat", {
        args: [join(mnt, "latest", basename(src), "data.bin")],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waiting.promise;
      m.unmount();
      assert.notEqual((await cat.status).code, 0); // its request was cut off by the unmount
      await m.done;
      go.resolve();
      // The request fails now and its reply is attempted: before the fix, a call into freed
      // libfuse memory (a segmentation fault that ended the process).
      assert.match(await answered.promise, /the store went away/);
      await Promise.resolve();
      assert.equal(isMounted(mnt), false);
    } finally {
      await r.storage.close();
    }
  },
);

mountTest("a time before 1970 with a fraction of a second shows as it was stored", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  const file = join(src, "old.txt");
  fs.writeFileSync(file, "old\n");
  const touch = await new Deno.Command("touch", {
    args: ["-d", "1969-12-31 23:59:58.25 UTC", file],
  }).output();
  assert.equal(touch.code, 0);
  await backup(repo, { paths: [src] });
  await repo.storage.close();
  const m = await mount(dir);
  try {
    const shown = fs.statSync(join(m.dir, "latest", basename(src), "old.txt"), { bigint: true });
    assert.equal(shown.mtimeNs, -1_750_000_000n); // 1.75 s before the epoch, not 0.000000001 s
  } finally {
    await unmount(m);
  }
});

mountTest(
  "SIGTERM with a file open unmounts, says so, and that file's next read fails with ENOTCONN",
  async () => {
    const { dir, repo } = await newRepo();
    const src = await tempDir();
    fs.writeFileSync(join(src, "open.bin"), randomBytes(2_000_000, 7));
    await backup(repo, { paths: [src] });
    await repo.storage.close();
    const m = await mount(dir);
    const file = await Deno.open(join(m.dir, "latest", basename(src), "open.bin"));
    try {
      assert.equal(await file.read(new Uint8Array(10)), 10);
      m.child.kill("SIGTERM");
      await m.waitFor(/1 file was still open in it: its next read fails with ENOTCONN/);
      await file.seek(1_900_000, Deno.SeekMode.Start); // far from what the kernel read ahead
      await assert.rejects(file.read(new Uint8Array(10)), Deno.errors.NotConnected);
    } finally {
      file.close();
    }
    assert.equal((await m.child.status).code, 0, m.stderr());
    await m.ended;
    await m.child.stdout.cancel();
    assert.equal(isMounted(m.dir), false);
  },
);

/** Why the kernel cannot be made to forget here: dropping its caches needs root. */
function cannotDropCaches(): string | undefined {
  try {
    fs.accessSync("/proc/sys/vm/drop_caches", fs.constants.W_OK);
    return undefined;
  } catch {
    return "writing /proc/sys/vm/drop_caches needs root";
  }
}

const noDrop = cannotDropCaches();
Deno.test({
  name: "after find over thousands of entries, the kernel's forgets return the mount's inodes",
  ignore: missing !== undefined || noDrop !== undefined,
  async fn() {
    const { dir, repo } = await newRepo();
    const src = await tempDir();
    for (let d = 0; d < 30; d++) {
      fs.mkdirSync(join(src, `d${d}`));
      for (let f = 0; f < 100; f++) fs.writeFileSync(join(src, `d${d}`, `f${f}`), "");
    }
    await backup(repo, { paths: [src] });
    await repo.storage.close();
    const r = await reopen(dir);
    await r.loadIndex();
    const mnt = await tempDir("pf-mnt-");
    let low = Infinity;
    let reached = Promise.withResolvers<void>();
    let target = 0;
    const m = mountSnapshots(r, await r.snapshots(), mnt, {
      log: () => {},
      onForget: (n) => {
        low = Math.min(low, n);
        if (n <= target) reached.resolve();
      },
    });
    try {
      const baseline = m.inodes();
      const find = await new Deno.Command("find", {
        args: [mnt, "-printf", "%s\n"],
        stdout: "null",
      }).output();
      assert.equal(find.code, 0);
      assert.ok(m.inodes() >= baseline + 3_030, `${m.inodes()} inodes after find`);
      // The kernel drops every dentry and inode nobody uses, and forgets them to the mount.
      target = baseline + 1; // the folder backed up stays: its parent, the root, is kept
      reached = Promise.withResolvers<void>();
      await Deno.writeTextFile("/proc/sys/vm/drop_caches", "2");
      await reached.promise;
      assert.ok(low <= baseline + 1, `${low} inodes after the kernel forgot`);
    } finally {
      m.unmount();
      await m.done;
      await r.storage.close();
    }
  },
});

/**
 * Runs `permafrost mount DIR` expecting a refusal: its exit code and stderr. Were it to mount
 * instead (the bug), it is unmounted and the test fails rather than hangs.
 */
async function refusedMount(repo: string, dir: string): Promise<{ code: number; stderr: string }> {
  const child = spawnCli(["mount", dir], { PERMAFROST_REPO: repo });
  let text = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    if (/mounted read-only/.test(text)) child.kill("SIGTERM");
  }
  await child.stdout.cancel();
  const { code } = await child.status;
  assert.doesNotMatch(text, /mounted read-only/, `it mounted on "${dir}"`);
  return { code, stderr: text };
}

mountTest("mount refuses a folder that is not empty, and one that is a mount already", async () => {
  const s = await twoSnapshots();
  const full = await tempDir();
  fs.writeFileSync(join(full, "mine.txt"), "mine\n");
  const out = await refusedMount(s.repo, full);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, new RegExp(`"${full}" is not empty: mount on an empty folder`));
  assert.equal(isMounted(full), false);
  const m = await mount(s.repo);
  try {
    const again = await refusedMount(s.repo, m.dir);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /is already a mount \(fuse\.permafrost\): run `permafrost umount/);
  } finally {
    await unmount(m);
  }
});

mountTest("permafrost umount follows a symlink to the mount, a killed mount's too", async () => {
  const s = await twoSnapshots();
  const links = await tempDir();
  const m = await mount(s.repo);
  fs.symlinkSync(m.dir, join(links, "live"));
  const out = await cli(["umount", join(links, "live")]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal((await m.child.status).code, 0, m.stderr());
  await m.ended;
  await m.child.stdout.cancel();
  assert.equal(isMounted(m.dir), false);

  const killed = await mount(s.repo);
  fs.symlinkSync(killed.dir, join(links, "killed"));
  killed.child.kill("SIGKILL");
  await killed.child.status;
  await killed.ended;
  await killed.child.stdout.cancel();
  assert.throws(() => fs.statSync(killed.dir), (e: NodeJS.ErrnoException) => e.code === "ENOTCONN");
  const dead = await cli(["umount", join(links, "killed")]);
  assert.equal(dead.code, 0, dead.stderr);
  assert.equal(isMounted(killed.dir), false);
});

mountTest("a read after gc moved the file's blobs reloads the index and reads them", async () => {
  const { dir, repo } = await newRepo();
  const src = await tempDir();
  const keep = randomBytes(300_000, 21);
  fs.writeFileSync(join(src, "keep.bin"), keep);
  fs.writeFileSync(join(src, "drop.bin"), randomBytes(300_000, 22));
  await backup(repo, { paths: [src] });
  fs.rmSync(join(src, "drop.bin"));
  await backup(repo, { paths: [src] });
  await repo.storage.close();
  const r = await reopen(dir);
  await r.loadIndex();
  const mnt = await tempDir("pf-mnt-");
  const log: string[] = [];
  const m = mountSnapshots(r, await r.snapshots(), mnt, { log: (l) => log.push(l) });
  try {
    const file = join(mnt, "latest", basename(src), "keep.bin");
    assert.equal((await Deno.stat(file)).size, keep.length); // its trees are read now
    const packs = () =>
      fs.readdirSync(join(dir, "packs"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile()).map((e) => e.name);
    const before = packs();
    // gc, from another process: the dead blobs' pack is repacked, then deleted.
    const env = { PERMAFROST_REPO: dir };
    for (
      const args of [
        ["forget", "--keep-last", "1"],
        ["gc", "mark"],
        ["gc", "compact", "--all"],
        ["gc", "purge", "--grace", "0", "--accept-early-fee"],
      ]
    ) {
      const out = await cli(args, env);
      assert.equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
    }
    const after = packs();
    assert.ok(before.some((p) => !after.includes(p)), "gc deleted none of the packs");
    const read = await new Deno.Command("cat", { args: [file], stdout: "piped" }).output();
    assert.equal(read.code, 0, log.join("\n"));
    assert.deepEqual(read.stdout, keep);
  } finally {
    m.unmount();
    await m.done;
    await r.storage.close();
  }
});
