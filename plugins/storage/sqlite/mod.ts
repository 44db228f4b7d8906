/**
 * The `sqlite` storage plugin: a whole repository in one SQLite file (see `sqlite_store.ts`
 * for the layout and guarantees). Config: `{ location: string }`, the absolute path of the
 * database file; the host lets this worker read and write only that file and SQLite's
 * `-wal`, `-shm` and `-journal` files beside it (`$database`).
 *
 * @module
 */

import { release, servePlugin } from "../../sdk/storage.ts";
import { SqliteStore } from "./sqlite_store.ts";

servePlugin((ctx) => {
  const config = ctx.config as Record<string, unknown> | null;
  if (typeof config !== "object" || config === null || typeof config.location !== "string") {
    throw new TypeError(`storage "sqlite" needs config "location", an absolute file path`);
  }
  for (const key of Object.keys(config)) {
    if (key !== "location") throw new TypeError(`storage "sqlite" has no option "${key}"`);
  }
  const store = new SqliteStore(config.location);
  return {
    init: () => store.init(),
    // The bytes were moved here by the host: free them once written (see the local plugin).
    create: (name: string, data: Uint8Array, options?: { label?: unknown }) =>
      store.create(name, data, options).finally(() => release(data)),
    read: (name: string, range?: { offset: number; length: number }) => store.read(name, range),
    stat: (name: string) => store.stat(name),
    requestRestore: (name: string) => store.requestRestore(name),
    list: (prefix: string) => store.list(prefix),
    delete: (name: string) => store.delete(name),
    // Every write is one transaction: an interrupted one leaves nothing behind to list.
    strays: () => [],
    removeStray: (name: string) => {
      throw new TypeError(`"${name}" is not a stray: the sqlite store leaves none`);
    },
  };
});
