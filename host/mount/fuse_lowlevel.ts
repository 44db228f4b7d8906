/**
 * libfuse3's low-level API through Deno's FFI (docs/mount.md "How it works"): a session whose
 * loop runs on a thread of its own (a `nonblocking` call), whose callbacks run on this isolate
 * (`Deno.UnsafeCallback.threadSafe`: the loop thread waits while one runs) and return at once,
 * and whose replies (`fuse_reply_*`) are sent later, from here, when the async repository has
 * answered. The loop never waits for a read, so several requests are in flight at once.
 *
 * Only what a read-only file system needs is bound. Every operation that would change the file
 * system is answered EROFS here as well as by the kernel (the mount is `ro`).
 *
 * Layouts are those of libfuse 3.x on 64-bit Linux (struct stat of x86_64 and aarch64 differ:
 * only x86_64 is laid out here; `openFuse` refuses other machines).
 *
 * @module
 */

/** The errnos the mount answers with (Linux values). */
export const Errno = {
  ENOENT: 2,
  EIO: 5,
  EAGAIN: 11,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENODATA: 61,
} as const;

/** File type bits of `st_mode`. */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** What `getattr` and `lookup` report for one inode. */
export interface Attr {
  ino: number;
  /** Type bits and permission bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint;
  atimeNs: bigint;
  ctimeNs: bigint;
}

/** One directory entry for `readdir`. */
export interface Dirent {
  name: string;
  ino: number;
  mode: number;
}

/** An opaque request handle: answer it exactly once with one of {@link FuseSession}'s replies. */
export type Req = Deno.PointerObject;

/**
 * What the file system does. Each handler is called on this isolate and must not throw; it
 * answers `req` once, now or later (an async handler answers when its promise settles).
 */
export interface LowLevelOps {
  lookup(req: Req, parent: number, name: string): void;
  /**
   * The kernel drops `nlookup` of the lookups of `ino` it was answered with (no reply: the
   * session sends none itself).
   */
  forget(ino: number, nlookup: number): void;
  getattr(req: Req, ino: number): void;
  readlink(req: Req, ino: number): void;
  /** `flags` are open(2)'s. */
  open(req: Req, ino: number, flags: number): void;
  read(req: Req, ino: number, fh: number, size: number, offset: number): void;
  release(req: Req, ino: number, fh: number): void;
  opendir(req: Req, ino: number): void;
  /** Entries from `offset` (the index of the next entry) on, at most `size` bytes of them. */
  readdir(req: Req, ino: number, size: number, offset: number): void;
  getxattr(req: Req, ino: number, name: string, size: number): void;
  listxattr(req: Req, ino: number, size: number): void;
}

const STAT_SIZE = 144;
const ENTRY_PARAM_SIZE = 176;
const FILE_INFO_SIZE = 40;
const STATVFS_SIZE = 112;
/** Slots of `struct fuse_lowlevel_ops` (libfuse 3.14; a larger size than the library's is ok). */
const OPS_SLOTS = 44;
/** Attributes and entries never change: the kernel may keep them as long as it likes. */
const FOREVER = 86400 * 365;
/** `st_blksize`: `cat` and `cp` read this much per call (coreutils `io_blksize`). */
const BLOCK_SIZE = 1 << 20;

const SYMBOLS = {
  fuse_session_new: { parameters: ["buffer", "buffer", "usize", "pointer"], result: "pointer" },
  fuse_session_mount: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_session_loop: { parameters: ["pointer"], result: "i32", nonblocking: true },
  fuse_session_exit: { parameters: ["pointer"], result: "void" },
  fuse_session_unmount: { parameters: ["pointer"], result: "void" },
  fuse_session_destroy: { parameters: ["pointer"], result: "void" },
  fuse_reply_err: { parameters: ["pointer", "i32"], result: "i32" },
  fuse_reply_none: { parameters: ["pointer"], result: "void" },
  fuse_reply_entry: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_attr: { parameters: ["pointer", "buffer", "f64"], result: "i32" },
  fuse_reply_readlink: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_open: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_buf: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  fuse_reply_statfs: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_xattr: { parameters: ["pointer", "usize"], result: "i32" },
  fuse_add_direntry: {
    parameters: ["pointer", "buffer", "usize", "buffer", "buffer", "i64"],
    result: "usize",
  },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** libfuse3 could not be loaded or used on this machine. */
export class FuseUnavailable extends Error {
  override name = "FuseUnavailable";
}

/** Loads libfuse3 (`libfuse3.so.3`); `FuseUnavailable` saying what to install when missing. */
export function loadFuse(): Lib {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new FuseUnavailable(
      `mounting needs Linux on x86_64 (this is ${Deno.build.os} on ${Deno.build.arch})`,
    );
  }
  try {
    return Deno.dlopen("libfuse3.so.3", SYMBOLS);
  } catch (err) {
    throw new FuseUnavailable(
      `cannot load "libfuse3.so.3" (${(err as Error).message}): install FUSE 3 ` +
        "(Debian and Ubuntu: `apt-get install fuse3 libfuse3-3`)",
    );
  }
}

const enc = new TextEncoder();

function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = enc.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function readCString(p: Deno.PointerValue): string {
  return p === null ? "" : new Deno.UnsafePointerView(p).getCString();
}

/** `struct stat` (x86_64) of `a` into `view` at `at`. */
function writeStat(view: DataView, at: number, a: Attr): void {
  const u64 = (o: number, v: number | bigint) => view.setBigUint64(at + o, BigInt(v), true);
  u64(8, a.ino);
  u64(16, a.nlink);
  view.setUint32(at + 24, a.mode, true);
  view.setUint32(at + 28, a.uid, true);
  view.setUint32(at + 32, a.gid, true);
  u64(48, a.size);
  u64(56, BLOCK_SIZE);
  u64(64, Math.ceil(a.size / 512));
  // tv_nsec is 0..999,999,999 also before 1970: seconds round down, not toward zero.
  const time = (o: number, ns: bigint) => {
    const rest = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
    view.setBigInt64(at + o, (ns - rest) / 1_000_000_000n, true);
    view.setBigInt64(at + o + 8, rest, true);
  };
  time(72, a.atimeNs);
  time(88, a.mtimeNs);
  time(104, a.ctimeNs);
}

/**
 * A mounted FUSE session. `mount` starts it; `done` settles when its loop ends (after
 * `unmount`, a `fusermount3 -u` or `umount` of the folder, or the kernel dropping it).
 */
export class FuseSession {
  #lib: Lib;
  #se: Deno.PointerObject;
  #callbacks: Deno.UnsafeCallback<any>[] = [];
  #unmounted = false;
  /** Set when the loop has ended and the session is destroyed: replies are dropped. */
  #ended = false;
  readonly done: Promise<number>;

  private constructor(lib: Lib, se: Deno.PointerObject, callbacks: Deno.UnsafeCallback<any>[]) {
    this.#lib = lib;
    this.#se = se;
    this.#callbacks = callbacks;
    this.done = lib.symbols.fuse_session_loop(se).finally(() => this.#close());
  }

  /**
   * Mounts a read-only file system at `dir` (an empty folder the caller may mount on) and
   * starts its loop; `ops(session)` gives the handlers, which answer through `session`. `name`
   * is the file system's name in the mount table (`permafrost` shows as `fuse.permafrost`).
   */
  static mount(
    dir: string,
    ops: (session: FuseSession) => LowLevelOps,
    name = "permafrost",
  ): FuseSession {
    const lib = loadFuse();
    // Requests come only once the mount is made, by when `made.session` is set.
    const made: { session?: FuseSession } = {};
    const handlers = lazyOps(() => made.session ? ops(made.session) : undefined);
    const callbacks = makeCallbacks(lib, handlers);
    const all = [...new Set(callbacks.values())];
    const fail = (message: string, se?: Deno.PointerObject) => {
      if (se) lib.symbols.fuse_session_destroy(se);
      for (const cb of all) cb.close();
      lib.close();
      return new FuseUnavailable(message);
    };
    const table = new BigUint64Array(OPS_SLOTS);
    for (const [slot, cb] of callbacks) table[slot] = BigInt(Deno.UnsafePointer.value(cb.pointer));
    const argv = ["permafrost", "-o", `ro,fsname=${name},subtype=${name}`].map(cString);
    const argvPtrs = new BigUint64Array(argv.length + 1);
    argv.forEach((a, i) => argvPtrs[i] = pointerValue(a));
    const args = new Uint8Array(16);
    const argsView = new DataView(args.buffer);
    argsView.setInt32(0, argv.length, true);
    argsView.setBigUint64(8, pointerValue(argvPtrs), true);
    const opsBytes = new Uint8Array(table.buffer);
    const se = lib.symbols.fuse_session_new(args, opsBytes, BigInt(opsBytes.length), null);
    if (se === null) throw fail("libfuse refused to create a session (its message is above)");
    if (lib.symbols.fuse_session_mount(se, cString(dir)) !== 0) {
      throw fail(
        `cannot mount on "${dir}" (libfuse's message is above): it must be an empty folder ` +
          "you may mount on, and /dev/fuse must be usable (`fusermount3` installed, or root)",
        se,
      );
    }
    made.session = new FuseSession(lib, se, all);
    return made.session;
  }

  /**
   * Unmounts (a busy folder does not stop it) and ends the connection: libfuse closes
   * /dev/fuse: the loop ends with the next request (at once when nothing is open in the mount;
   * else an open file's next read, which fails with ENOTCONN, or its close). Idempotent.
   */
  unmount(): void {
    if (this.#unmounted) return;
    this.#unmounted = true;
    this.#lib.symbols.fuse_session_exit(this.#se);
    this.#lib.symbols.fuse_session_unmount(this.#se);
  }

  #close(): void {
    this.unmount();
    this.#ended = true;
    this.#lib.symbols.fuse_session_destroy(this.#se);
    for (const cb of this.#callbacks) cb.close();
    this.#lib.close();
  }

  // Replies. Each answers one request exactly once; a request whose process went away is
  // answered all the same (libfuse ignores the kernel's ENOENT for it). A reply that comes
  // after the loop ended (a read still in flight at unmount) is dropped: its request and the
  // session are freed memory by then, and the library unloaded.

  err(req: Req, errno: number): void {
    if (this.#ended) return;
    this.#lib.symbols.fuse_reply_err(req, errno);
  }

  /** Answers a lookup; true when the kernel took it (then it counts one lookup of `a.ino`). */
  entry(req: Req, a: Attr): boolean {
    if (this.#ended) return false;
    const buf = new Uint8Array(ENTRY_PARAM_SIZE);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, BigInt(a.ino), true);
    writeStat(view, 16, a);
    view.setFloat64(160, FOREVER, true);
    view.setFloat64(168, FOREVER, true);
    return this.#lib.symbols.fuse_reply_entry(req, buf) === 0;
  }

  attr(req: Req, a: Attr): void {
    if (this.#ended) return;
    const buf = new Uint8Array(STAT_SIZE);
    writeStat(new DataView(buf.buffer), 0, a);
    this.#lib.symbols.fuse_reply_attr(req, buf, FOREVER);
  }

  readlink(req: Req, target: string): void {
    if (this.#ended) return;
    this.#lib.symbols.fuse_reply_readlink(req, cString(target));
  }

  /** Opens with handle `fh`; the kernel keeps the file's cached pages (contents never change). */
  open(req: Req, fh: number): void {
    if (this.#ended) return;
    const buf = new Uint8Array(FILE_INFO_SIZE);
    const view = new DataView(buf.buffer);
    view.setUint32(4, 1 << 2, true); // keep_cache
    view.setBigUint64(16, BigInt(fh), true);
    this.#lib.symbols.fuse_reply_open(req, buf);
  }

  buf(req: Req, bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#ended) return;
    this.#lib.symbols.fuse_reply_buf(req, bytes, BigInt(bytes.length));
  }

  xattrSize(req: Req, size: number): void {
    if (this.#ended) return;
    this.#lib.symbols.fuse_reply_xattr(req, BigInt(size));
  }

  /** Directory entries from index `offset` on, as many as fit in `size` bytes. */
  dirents(req: Req, entries: Dirent[], size: number, offset: number): void {
    if (this.#ended) return;
    const out = new Uint8Array(size);
    const stat = new Uint8Array(STAT_SIZE);
    const view = new DataView(stat.buffer);
    let used = 0;
    for (let i = offset; i < entries.length; i++) {
      const e = entries[i];
      view.setBigUint64(8, BigInt(e.ino), true);
      view.setUint32(24, e.mode, true);
      const room = size - used;
      const name = cString(e.name);
      const need = Number(
        this.#lib.symbols.fuse_add_direntry(
          req,
          out.subarray(used),
          BigInt(room),
          name,
          stat,
          BigInt(i + 1),
        ),
      );
      if (need > room) break;
      used += need;
    }
    this.#lib.symbols.fuse_reply_buf(req, out, BigInt(used));
  }

  none(req: Req): void {
    if (this.#ended) return;
    this.#lib.symbols.fuse_reply_none(req);
  }
}

/** A read-only file system of unknown free space. */
function statfsReply(lib: Lib, req: Req): void {
  const buf = new Uint8Array(STATVFS_SIZE);
  const view = new DataView(buf.buffer);
  view.setBigUint64(0, BigInt(BLOCK_SIZE), true); // f_bsize
  view.setBigUint64(8, BigInt(BLOCK_SIZE), true); // f_frsize
  view.setBigUint64(72, 1n, true); // f_flag: ST_RDONLY
  view.setBigUint64(80, 255n, true); // f_namemax
  lib.symbols.fuse_reply_statfs(req, buf);
}

function pointerValue(buf: BufferSource): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** Handlers made on first use (the session exists by then: the kernel waits for the mount). */
function lazyOps(make: () => LowLevelOps | undefined): () => LowLevelOps | undefined {
  let made: LowLevelOps | undefined;
  return () => made ??= make();
}

/** `fh` of a `struct fuse_file_info`. */
function fhOf(fi: Deno.PointerValue): number {
  return fi === null ? 0 : Number(new Deno.UnsafePointerView(fi).getBigUint64(16));
}

function flagsOf(fi: Deno.PointerValue): number {
  return fi === null ? 0 : new Deno.UnsafePointerView(fi).getInt32(0);
}

/**
 * The callbacks by slot of `struct fuse_lowlevel_ops`. A request that comes before the session
 * object exists (none should: the kernel sends none before the mount returns) gets EAGAIN.
 */
function makeCallbacks(
  lib: Lib,
  handlers: () => LowLevelOps | undefined,
): Map<number, Deno.UnsafeCallback<any>> {
  const slots = new Map<number, Deno.UnsafeCallback<any>>();
  const add = <D extends Deno.UnsafeCallbackDefinition>(
    slot: number,
    definition: D,
    fn: (ops: LowLevelOps, req: Req, ...args: any[]) => void,
  ) => {
    slots.set(
      slot,
      Deno.UnsafeCallback.threadSafe(
        definition,
        ((req: Deno.PointerValue, ...args: any[]) => {
          const ops = handlers();
          if (req === null) return;
          if (!ops) return void lib.symbols.fuse_reply_err(req, Errno.EAGAIN);
          try {
            fn(ops, req, ...args);
          } catch (err) {
            console.error(`permafrost mount: ${(err as Error).message}`);
            lib.symbols.fuse_reply_err(req, Errno.EIO);
          }
        }) as any,
      ),
    );
  };
  const P = "pointer", U = "u64", Z = "usize", I = "i64", V = "void";
  add(
    2,
    { parameters: [P, U, P], result: V },
    (o, r, parent, name) => o.lookup(r, Number(parent), readCString(name)),
  );
  // forget and forget_multi: counted, then "answered" with fuse_reply_none (which only frees
  // the request: the kernel expects no reply to them, not even an error).
  const forgetting = <D extends Deno.UnsafeCallbackDefinition>(
    definition: D,
    each: (ops: LowLevelOps, ...args: any[]) => void,
  ) =>
    Deno.UnsafeCallback.threadSafe(
      definition,
      ((req: Deno.PointerValue, ...args: any[]) => {
        if (req === null) return;
        const ops = handlers();
        try {
          if (ops) each(ops, ...args);
        } catch (err) {
          console.error(`permafrost mount: ${(err as Error).message}`);
        }
        lib.symbols.fuse_reply_none(req);
      }) as any,
    );
  slots.set(
    3,
    forgetting(
      { parameters: [P, U, U], result: V },
      (o, ino, n) => o.forget(Number(ino), Number(n)),
    ),
  );
  slots.set(
    38,
    forgetting({ parameters: [P, Z, P], result: V }, (o, count, forgets) => {
      if (forgets === null) return;
      const view = new Deno.UnsafePointerView(forgets);
      for (let i = 0; i < Number(count); i++) {
        // struct fuse_forget_data { uint64_t ino; uint64_t nlookup; }
        o.forget(Number(view.getBigUint64(i * 16)), Number(view.getBigUint64(i * 16 + 8)));
      }
    }),
  );
  add(4, { parameters: [P, U, P], result: V }, (o, r, ino) => o.getattr(r, Number(ino)));
  add(6, { parameters: [P, U], result: V }, (o, r, ino) => o.readlink(r, Number(ino)));
  add(
    14,
    { parameters: [P, U, P], result: V },
    (o, r, ino, fi) => o.open(r, Number(ino), flagsOf(fi)),
  );
  add(
    15,
    { parameters: [P, U, Z, I, P], result: V },
    (o, r, ino, size, off, fi) => o.read(r, Number(ino), fhOf(fi), Number(size), Number(off)),
  );
  add(
    18,
    { parameters: [P, U, P], result: V },
    (o, r, ino, fi) => o.release(r, Number(ino), fhOf(fi)),
  );
  add(20, { parameters: [P, U, P], result: V }, (o, r, ino) => o.opendir(r, Number(ino)));
  add(
    21,
    { parameters: [P, U, Z, I, P], result: V },
    (o, r, ino, size, off) => o.readdir(r, Number(ino), Number(size), Number(off)),
  );
  add(22, { parameters: [P, U, P], result: V }, (_o, r) => lib.symbols.fuse_reply_err(r, 0));
  add(24, { parameters: [P, U], result: V }, (_o, r) => statfsReply(lib, r));
  add(
    26,
    { parameters: [P, U, P, Z], result: V },
    (o, r, ino, name, size) => o.getxattr(r, Number(ino), readCString(name), Number(size)),
  );
  add(
    27,
    { parameters: [P, U, Z], result: V },
    (o, r, ino, size) => o.listxattr(r, Number(ino), Number(size)),
  );
  // Everything that would change the file system (the kernel refuses these first on a `ro`
  // mount; this is the second line): setattr, mknod, mkdir, unlink, rmdir, symlink, rename,
  // link, write, fsync, setxattr, removexattr, create, fallocate, copy_file_range.
  const refuse = Deno.UnsafeCallback.threadSafe(
    { parameters: [P], result: V },
    (req) => req !== null && lib.symbols.fuse_reply_err(req, Errno.EROFS),
  );
  for (const slot of [5, 7, 8, 9, 10, 11, 12, 13, 16, 19, 25, 28, 30, 40, 42]) {
    slots.set(slot, refuse);
  }
  return slots;
}
