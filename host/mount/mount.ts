/**
 * `permafrost mount`: serves a repository's snapshots as a read-only FUSE file system
 * (docs/mount.md). Names, modes, sizes, times and symlinks come from trees (hot metadata,
 * `snapshot_fs.ts`); file contents from blobs (`file_reader.ts`). A read whose pack is in cold
 * storage fails at once with EIO and a line on stderr saying what to run; it never waits.
 *
 * @module
 */

import { NeedsRestore, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import { type FileLayout, FileReader } from "./file_reader.ts";
import {
  type Attr,
  Errno,
  FuseSession,
  type LowLevelOps,
  type Req,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
} from "./fuse_lowlevel.ts";
import { type Inode, ROOT_INO, SnapshotFs } from "./snapshot_fs.ts";

/** What a read of a file whose packs are cold does instead of failing with EIO alone. */
export interface ColdPolicy {
  /**
   * Called for each read that finds a pack archived, with the file and the data packs that
   * hold it; returns the errno to fail the read with and the line to log (once per open).
   */
  onCold(file: Inode, packs: string[]): Promise<{ errno: number; message: string }>;
}

export interface MountOptions {
  /** Mount only this snapshot: its root is the mount's root. */
  only?: SnapshotEntry;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
  /** The command that restores a file (`snapshot` id, `path` in it), for the cold message. */
  restoreCommand?: (snapshot: string, path: string) => string;
  /** Cold reads: default, EIO and a line naming the packs and `restoreCommand`. */
  cold?: ColdPolicy;
  /** Called after each of the kernel's forgets with how many inodes the mount still holds. */
  onForget?: (inodes: number) => void;
}

/** An open file: its inode, where its blobs are (once known), and whether it was logged. */
interface Handle {
  inode: Inode;
  layout?: FileLayout;
  logged: boolean;
  /** The index's reload a read of it started on finding a pack gone (once per open). */
  reloaded?: Promise<void>;
}

/** A mounted repository; `done` settles when it is unmounted. */
export interface Mounted {
  unmount(): void;
  /**
   * How many inodes the mount holds: the top level and snapshot roots, and every entry the
   * kernel has looked up and not forgotten (its memory grows with this, not with what was read).
   */
  inodes(): number;
  done: Promise<void>;
}

/**
 * Mounts `snapshots` of `repo` (whose index must be loaded) at `dir`. Every request is
 * answered, errors included, by the time its repository call settles; nothing waits on cold
 * storage.
 */
export function mountSnapshots(
  repo: Repository,
  snapshots: SnapshotEntry[],
  dir: string,
  options: MountOptions = {},
): Mounted {
  const fs = new SnapshotFs(repo, snapshots, {
    only: options.only,
    uid: Deno.uid() ?? 0,
    gid: Deno.gid() ?? 0,
  });
  const reader = new FileReader(repo);
  const log = options.log ?? ((line: string) => console.error(line));
  const restoreCommand = options.restoreCommand ??
    ((s: string, p: string) =>
      `permafrost restore ${shellQuote(`${s.slice(0, 8)}:${p}`)} --target DIR`);
  const cold: ColdPolicy = options.cold ?? {
    onCold: (file, packs) =>
      Promise.resolve({
        errno: Errno.EIO,
        message: coldMessage(file, packs, restoreCommand(file.snapshot!, file.snapshotPath!)),
      }),
  };
  let reloading: Promise<void> | undefined;
  /** One reload of the index at a time; reads that find packs gone meanwhile share it. */
  const reloadIndex = () => reloading ??= repo.reloadIndex().finally(() => reloading = undefined);
  const services = { reader, log, cold, restoreCommand, reloadIndex };
  const handles = new Map<number, Handle>();
  let session: FuseSession;
  try {
    session = FuseSession.mount(dir, (f) => operations(f, fs, services, handles, options.onForget));
  } catch (err) {
    reader.close(); // its workers would keep the process alive
    throw err;
  }
  return {
    inodes: () => fs.size,
    unmount: () => {
      const open = handles.size;
      session.unmount();
      if (open > 0) {
        log(
          `permafrost mount: "${dir}" is unmounted; ${open} ${
            open === 1 ? "file was" : "files were"
          } still open in it: its next read fails with ENOTCONN, and the mount ends then or when it is closed`,
        );
      }
    },
    done: session.done.then(() => reader.close()),
  };
}

/** The handlers: each answers its request once, after its (async) repository call. */
function operations(
  f: FuseSession,
  fs: SnapshotFs,
  services: ReadServices,
  handles: Map<number, Handle>,
  onForget?: (inodes: number) => void,
): LowLevelOps {
  const { log } = services;
  let nextHandle = 1;
  /**
   * Runs `work`, answering EIO (with a log line) for whatever it throws; when a pack it needs
   * is gone (a `gc` since the index was loaded), once more after reloading the index.
   */
  const answer = (req: Req, what: string, work: () => Promise<void> | void) => {
    Promise.resolve().then(work).catch(async (err) => {
      if (!(err instanceof ObjectNotFound)) throw err;
      await services.reloadIndex();
      await work();
    }).catch((err) => {
      log(`permafrost mount: ${what}: ${(err as Error).message}`);
      f.err(req, Errno.EIO);
    });
  };
  const dirOf = (req: Req, ino: number): Inode | undefined => {
    const inode = fs.get(ino);
    if (!inode) f.err(req, Errno.ENOENT);
    else if (inode.type !== "dir") f.err(req, Errno.ENOTDIR);
    else return inode;
  };
  return {
    lookup(req, parent, name) {
      const dir = dirOf(req, parent);
      if (!dir) return;
      answer(req, `"${dir.path}"`, async () => {
        const child = (await fs.children(dir)).get(name);
        if (!child) return f.err(req, Errno.ENOENT);
        if (f.entry(req, attrOf(child))) fs.remember(child);
      });
    },
    forget(ino, n) {
      fs.forget(ino, n);
      onForget?.(fs.size);
    },
    getattr(req, ino) {
      const inode = fs.get(ino);
      if (inode) f.attr(req, attrOf(inode));
      else f.err(req, Errno.ENOENT);
    },
    readlink(req, ino) {
      const inode = fs.get(ino);
      if (inode?.target !== undefined) f.readlink(req, inode.target);
      else f.err(req, inode ? Errno.EINVAL : Errno.ENOENT);
    },
    open(req, ino, flags) {
      const inode = fs.get(ino);
      if (!inode) return f.err(req, Errno.ENOENT);
      if ((flags & 3) !== 0) return f.err(req, Errno.EROFS); // O_WRONLY, O_RDWR
      if (inode.type === "dir") return f.err(req, Errno.EISDIR);
      const fh = nextHandle++;
      handles.set(fh, { inode, logged: false });
      f.open(req, fh);
    },
    read(req, ino, fh, size, offset) {
      const handle = handles.get(fh);
      if (!handle || handle.inode.ino !== ino) return f.err(req, Errno.EINVAL);
      readFile(f, req, handle, size, offset, services);
    },
    release(req, _ino, fh) {
      handles.delete(fh);
      f.err(req, 0);
    },
    opendir(req, ino) {
      if (dirOf(req, ino)) f.open(req, 0);
    },
    readdir(req, ino, size, offset) {
      const dir = dirOf(req, ino);
      if (!dir) return;
      answer(req, `"${dir.path}"`, async () => {
        const children = [...(await fs.children(dir))];
        // The kernel answers ".." itself; its inode number here only has to be a directory's.
        f.dirents(
          req,
          [
            { name: ".", ino: dir.ino, mode: S_IFDIR },
            { name: "..", ino: ROOT_INO, mode: S_IFDIR },
            ...children.map(([name, c]) => ({ name, ino: c.ino, mode: typeBits(c) })),
          ],
          size,
          offset,
        );
      });
    },
    getxattr(req, ino, name, size) {
      const inode = fs.get(ino);
      if (!inode) return f.err(req, Errno.ENOENT);
      const pair = inode.xattrs?.find(([n]) => n === name);
      if (!pair) return f.err(req, Errno.ENODATA);
      const value = Uint8Array.fromBase64(pair[1]);
      if (size === 0) f.xattrSize(req, value.length);
      else if (size < value.length) f.err(req, Errno.ERANGE);
      else f.buf(req, value);
    },
    listxattr(req, ino, size) {
      const inode = fs.get(ino);
      if (!inode) return f.err(req, Errno.ENOENT);
      const names = new TextEncoder().encode(
        (inode.xattrs ?? []).map(([n]) => `${n}\0`).join(""),
      );
      if (size === 0) f.xattrSize(req, names.length);
      else if (size < names.length) f.err(req, Errno.ERANGE);
      else f.buf(req, names);
    },
  };
}

/** What reads use. */
interface ReadServices {
  reader: FileReader;
  log: (line: string) => void;
  cold: ColdPolicy;
  restoreCommand: (snapshot: string, path: string) => string;
  /** Loads the index again: what a `gc` moved is found in its new packs. */
  reloadIndex: () => Promise<void>;
}

/**
 * Answers one read: the bytes, or the errno the failure calls for (logged once per open). A
 * read that finds a blob or pack gone tries once more after a reload of the index (one reload
 * per open file): `gc` repacks live blobs and deletes the old packs while a mount may run.
 */
function readFile(
  f: FuseSession,
  req: Req,
  handle: Handle,
  size: number,
  offset: number,
  s: ReadServices,
): void {
  const { reader, log, cold, restoreCommand, reloadIndex } = s;
  const file = handle.inode;
  const once = (line: string) => {
    if (!handle.logged) log(line);
    handle.logged = true;
  };
  const attempt = async () => {
    handle.layout ??= layoutOf(reader, file, restoreCommand);
    f.buf(req, await reader.read(handle.layout, offset, size));
  };
  attempt().catch(async (err) => {
    if (!(err instanceof ObjectNotFound)) throw err;
    await (handle.reloaded ??= reloadIndex());
    handle.layout = undefined; // found again in the reloaded index
    await attempt();
  }).catch(async (err) => {
    if (err instanceof NeedsRestore && handle.layout) {
      const { errno, message } = await cold.onCold(file, reader.packsOf(handle.layout)).catch(
        (e) => ({ errno: Errno.EIO, message: `permafrost mount: ${(e as Error).message}` }),
      );
      once(message);
      return f.err(req, errno);
    }
    const why = err instanceof ObjectNotFound
      ? `${err.message} (run \`permafrost check\`)`
      : (err as Error).message;
    once(`permafrost mount: cannot read "${file.path}": ${why}; EIO`);
    f.err(req, Errno.EIO);
  });
}

/**
 * Where `file`'s blobs are; refuses (never serves short or other bytes) a mirrored file, whose
 * bytes are a store object the mount does not read, and a file whose blobs do not add up to
 * the size its tree gives.
 */
function layoutOf(
  reader: FileReader,
  file: Inode,
  restoreCommand: (snapshot: string, path: string) => string,
): FileLayout {
  if (file.mirror !== undefined) {
    throw new Error(
      `it is a mirrored file (the sync engine), its bytes are the store object "${file.mirror}", ` +
        `which the mount does not read: run \`${
          restoreCommand(file.snapshot!, file.snapshotPath!)
        }\``,
    );
  }
  const layout = reader.layout(file.content ?? []);
  const total = layout.starts[layout.ids.length];
  if (total !== file.size) {
    throw new Error(
      `its tree gives ${file.size} bytes but its blobs hold ${total} (run \`permafrost check\`)`,
    );
  }
  return layout;
}

/** The default cold line: the file, its packs, and the command that restores it. */
export function coldMessage(file: Inode, packs: string[], restore: string): string {
  const shown = packs.slice(0, 3).map((p) => `"${p.slice(0, 12)}"`).join(", ") +
    (packs.length > 3 ? ` and ${packs.length - 3} more` : "");
  return `permafrost mount: "${file.path}" is in cold storage (${packs.length} ${
    packs.length === 1 ? "pack" : "packs"
  }: ${shown}); its reads fail with EIO. To read it, run \`${restore}\``;
}

function typeBits(inode: Inode): number {
  return inode.type === "dir" ? S_IFDIR : inode.type === "symlink" ? S_IFLNK : S_IFREG;
}

function attrOf(inode: Inode): Attr {
  return {
    ino: inode.ino,
    mode: typeBits(inode) | inode.mode,
    nlink: inode.type === "dir" ? 2 : 1,
    uid: inode.uid,
    gid: inode.gid,
    size: inode.size,
    mtimeNs: inode.mtimeNs,
    atimeNs: inode.atimeNs,
    ctimeNs: inode.ctimeNs,
  };
}

/** `s` as one POSIX shell word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
