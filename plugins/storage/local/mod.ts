/**
 * The `local` storage plugin: a repository in a local folder (see `local_store.ts` for the
 * layout and guarantees). Config: `{ location: string }`, the absolute folder path, which is
 * also the only path the host lets this worker read and write (`$location`).
 *
 * @module
 */

import { ObjectNotFound, release, servePlugin } from "../../sdk/mod.ts";
import { LocalStore } from "./local_store.ts";

servePlugin((ctx) => {
  const config = ctx.config as Record<string, unknown> | null;
  if (typeof config !== "object" || config === null || typeof config.location !== "string") {
    throw new TypeError(`storage "local" needs config "location", an absolute folder path`);
  }
  for (const key of Object.keys(config)) {
    if (key !== "location") throw new TypeError(`storage "local" has no option "${key}"`);
  }
  const store = new LocalStore(config.location);
  return {
    init: () => store.init(),
    // The bytes were moved here by the host: free them once written (a 64 MiB pack should not
    // wait for this worker's next garbage collection).
    create: (name: string, data: Uint8Array) =>
      store.create(name, data).finally(() => release(data)),
    read: (name: string, range?: { offset: number; length: number }) => store.read(name, range),
    stat: (name: string) => store.stat(name),
    // Every local object is readable: there is nothing to restore.
    requestRestore: async (name: string) => {
      if ((await store.stat(name)) === null) throw new ObjectNotFound(`object "${name}" not found`);
    },
    list: (prefix: string) => store.list(prefix),
    delete: (name: string) => store.delete(name),
  };
});
