/**
 * Runs a CLI command against the server's already open repository and returns what it would
 * print with `--json`, so a page shows exactly what `permafrost cost --json` or
 * `permafrost restore --estimate --json` prints, from the same code.
 *
 * The commands close their repository's storage when done; the server's repository is opened
 * on a {@link KeepOpen} storage, whose `close` does nothing until the server stops.
 *
 * @module
 */

import { Context, type Flags } from "../cli/context.ts";
import type { Repository } from "../repository/repository.ts";
import type { Storage } from "../storage/storage.ts";

/** A storage whose `close()` is a no-op; `closeNow()` closes the one it wraps. */
export class KeepOpen implements Storage {
  constructor(readonly inner: Storage) {}
  create: Storage["create"] = (name, data, options) => this.inner.create(name, data, options);
  read: Storage["read"] = (name, range) => this.inner.read(name, range);
  stat: Storage["stat"] = (name) => this.inner.stat(name);
  list: Storage["list"] = (prefix) => this.inner.list(prefix);
  requestRestore: Storage["requestRestore"] = (name, o) => this.inner.requestRestore(name, o);
  delete: Storage["delete"] = (name) => this.inner.delete(name);
  strays: Storage["strays"] = () => this.inner.strays();
  removeStray: Storage["removeStray"] = (name) => this.inner.removeStray(name);
  close(): Promise<void> {
    return Promise.resolve();
  }
  closeNow(): Promise<void> {
    return this.inner.close();
  }
}

/** A context whose `open` returns the open repository and whose `print` keeps the value. */
class CaptureContext extends Context {
  value: unknown;
  constructor(positionals: string[], flags: Flags, readonly repo: Repository) {
    super(positionals, flags);
  }
  override open(): Promise<Repository> {
    return Promise.resolve(this.repo);
  }
  override print(value: unknown): void {
    this.value = value;
  }
}

/** Runs `command` with `positionals` and `flags` (plus `--json`) and resolves what it printed. */
export async function commandJson(
  command: (ctx: Context) => Promise<number>,
  repo: Repository,
  positionals: string[],
  flags: Flags,
): Promise<unknown> {
  const ctx = new CaptureContext(positionals, { ...flags, json: true }, repo);
  const status = await command(ctx);
  if (status !== 0 || ctx.value === undefined) {
    throw new Error(`the command ended with status ${status} and printed nothing`);
  }
  return ctx.value;
}
