/**
 * What a plugin asks for, in words a user can judge before installing it (docs/plugins.md
 * §7.5): one line per permission entry and capability, the risky ones marked. Risky: anything
 * that reaches the network, the environment (which holds passwords and keys), other programs
 * or native code, writing anywhere, reading outside the backup's own files, and the storage
 * words that delete or hand over credentials.
 *
 * @module
 */

import type { Manifest } from "../../plugins/sdk/manifest.ts";

/** One thing a plugin asks for. */
export interface Ask {
  /** The words shown: "read the files being backed up". */
  what: string;
  risky: boolean;
}

const placeholders: Record<string, string> = {
  $sources: "the files being backed up",
  $location: "the repository folder",
  $database: "the repository database",
  $endpoint: "the repository's server",
};

const capabilityWords: Record<string, Ask> = {
  blobs: { what: "store backed-up data in the repository", risky: false },
  trees: { what: "store folder listings in the repository", risky: false },
  cache: { what: "use the backup's file cache", risky: false },
  report: { what: "report progress and warnings", risky: false },
  filter: { what: "ask the backup's filters what to leave out", risky: false },
  credentials: {
    what: "receive the storage credentials (keys to your cloud account)",
    risky: true,
  },
};

const storageWords: Record<string, Ask> = {
  delete: { what: "delete objects from the repository", risky: true },
  removeStray: { what: "delete leftovers of interrupted writes", risky: true },
};

function entries(list: string[]): string {
  return list.map((e) => placeholders[e] ?? `"${e}"`).join(", ");
}

/** Everything `manifest` asks for, permissions first, then capabilities and storage words. */
export function describeAsks(manifest: Manifest): Ask[] {
  const asks: Ask[] = [];
  const p = manifest.permissions;
  const add = (value: boolean | string[] | undefined, all: Ask, some: (l: string[]) => Ask) => {
    if (value === true) asks.push(all);
    else if (Array.isArray(value) && value.length > 0) asks.push(some(value));
  };
  add(p.read, { what: "read every file on this computer", risky: true }, (l) => ({
    what: `read ${entries(l)}`,
    risky: l.some((e) => e !== "$sources" && e !== "$location" && e !== "$database"),
  }));
  add(p.write, { what: "change or delete any file on this computer", risky: true }, (l) => ({
    what: `change or delete files in ${entries(l)}`,
    risky: true,
  }));
  add(p.net, { what: "connect to any server on the network", risky: true }, (l) => ({
    what: `connect to ${entries(l)}`,
    risky: true,
  }));
  add(p.env, {
    what: "read every environment variable (they may hold passwords and keys)",
    risky: true,
  }, (l) => ({ what: `read the environment variables ${entries(l)}`, risky: true }));
  add(p.sys, { what: "read any system information", risky: false }, (l) => ({
    what: `read system information: ${entries(l)}`,
    risky: false,
  }));
  add(p.run, { what: "run any program", risky: true }, (l) => ({
    what: `run the programs ${entries(l)}`,
    risky: true,
  }));
  add(p.ffi, { what: "load native libraries (full access to this computer)", risky: true }, (
    l,
  ) => ({ what: `load the native libraries ${entries(l)} (full access)`, risky: true }));
  for (const c of manifest.capabilities) {
    asks.push(capabilityWords[c] ?? { what: `use the host capability "${c}"`, risky: true });
  }
  if (manifest.kind === "storage") {
    for (const m of manifest.methods) if (storageWords[m]) asks.push(storageWords[m]);
  }
  return asks;
}

/** The asks as lines for a terminal: `  ! connect to "example.com"` for a risky one. */
export function asksText(asks: Ask[]): string {
  if (asks.length === 0) return "  nothing: no files, no network, no environment";
  return asks.map((a) => `  ${a.risky ? "!" : "-"} ${a.what}${a.risky ? "  (risky)" : ""}`)
    .join("\n");
}
