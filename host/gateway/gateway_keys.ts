/**
 * The gateway's own access keys, which ingest machines sign their requests with
 * (docs/gateway.md "Keys"). Kept in the gateway's state folder, `gateway/` under
 * `PERMAFROST_STATE_DIR` (else `$XDG_STATE_HOME/permafrost`, else `~/.local/state/permafrost`),
 * folder 0700, files 0600:
 *
 * - `keys.json`: `{ "version": 1, "keys": [{ id, name, created, sealed }] }`, `sealed` the
 *   secret sealed with AES-256-GCM under the seal key, its access key id as additional data (so
 *   a sealed secret moved to another entry does not open). Signature Version 4 is symmetric: the
 *   verifier needs the secret itself, so it is stored sealed, never in the clear.
 * - `seal.key`: 32 random bytes, made with the first key; or, instead of the file,
 *   `PERMAFROST_GATEWAY_SEAL_KEY` (64 hex digits), e.g. from a secret store in a container, so
 *   that a copy of the folder alone opens nothing.
 *
 * `PERMAFROST_GATEWAY_KEYS` may hold the content of `keys.json` instead of the file (a
 * container's secret); the keys are then read-only.
 *
 * @module
 */

import { join } from "node:path";
import { aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";

const VERSION = 1;

/** One key as listed: never its secret. */
export interface GatewayKeyInfo {
  id: string;
  name: string;
  /** ISO time. */
  created: string;
}

interface StoredKey extends GatewayKeyInfo {
  /** Base64 of the sealed secret. */
  sealed: string;
}

/** Reads one environment variable. */
export type Env = (name: string) => string | undefined;
const processEnv: Env = (n) => Deno.env.get(n) || undefined;

/** The gateway's state folder. */
export function gatewayDir(env: Env = processEnv): string {
  const state = env("PERMAFROST_STATE_DIR") ??
    join(env("XDG_STATE_HOME") ?? join(env("HOME") ?? ".", ".local", "state"), "permafrost");
  return join(state, "gateway");
}

/** The gateway's keys in a folder (see the module doc). */
export class GatewayKeys {
  #dir: string;
  #env: Env;
  #secrets = new Map<string, string>();
  #sealKey: Uint8Array | undefined;

  constructor(dir: string = gatewayDir(), env: Env = processEnv) {
    this.#dir = dir;
    this.#env = env;
  }

  /** Makes a key named `name`: the only time its secret is shown. */
  async add(name: string): Promise<GatewayKeyInfo & { secret: string }> {
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
      throw new TypeError(
        `gateway key name "${name}" must be 1 to 64 letters, digits, ".", "_", "@" or "-"`,
      );
    }
    const id = "PFGW" + base32(crypto.getRandomValues(new Uint8Array(10)));
    const secret = base64(crypto.getRandomValues(new Uint8Array(30)));
    const created = new Date().toISOString();
    await this.#update(async (keys) => {
      if (keys.some((k) => k.name === name)) {
        throw new Deno.errors.AlreadyExists(
          `gateway key "${name}" exists already; remove it first or choose another name`,
        );
      }
      const sealed = base64(aeadSeal(await this.#seal(true), utf8(secret), utf8(id)));
      return [...keys, { id, name, created, sealed }];
    });
    return { id, name, created, secret };
  }

  /** Every key, without secrets. */
  async list(): Promise<GatewayKeyInfo[]> {
    return (await this.#read()).map(({ id, name, created }) => ({ id, name, created }));
  }

  /** Removes the key with this name or access key id; `NotFound` if there is none. */
  async remove(nameOrId: string): Promise<GatewayKeyInfo> {
    let gone: StoredKey | undefined;
    await this.#update((keys) => {
      gone = keys.find((k) => k.name === nameOrId || k.id === nameOrId);
      if (gone === undefined) {
        throw new Deno.errors.NotFound(
          `no gateway key "${nameOrId}" (see \`permafrost gateway key list\`)`,
        );
      }
      return keys.filter((k) => k !== gone);
    });
    this.#secrets.delete(gone!.id);
    return { id: gone!.id, name: gone!.name, created: gone!.created };
  }

  /**
   * The secret of access key `id`, or `undefined`. Read from disk on each miss, so a key added
   * or removed while the gateway runs counts from its next request.
   */
  async secretOf(id: string): Promise<string | undefined> {
    const keys = await this.#read();
    const key = keys.find((k) => k.id === id);
    if (key === undefined) {
      this.#secrets.delete(id);
      return undefined;
    }
    const cached = this.#secrets.get(id);
    if (cached !== undefined) return cached;
    const secret = fromUtf8(aeadOpen(await this.#seal(false), unbase64(key.sealed), utf8(id)));
    this.#secrets.set(id, secret);
    return secret;
  }

  async #read(): Promise<StoredKey[]> {
    const inline = this.#env("PERMAFROST_GATEWAY_KEYS");
    let text: string;
    if (inline !== undefined) text = inline;
    else {
      try {
        text = await Deno.readTextFile(join(this.#dir, "keys.json"));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      }
    }
    const doc = JSON.parse(text);
    if (doc?.version !== VERSION || !Array.isArray(doc.keys)) {
      throw new TypeError(
        `gateway keys "${join(this.#dir, "keys.json")}" are not version ${VERSION}`,
      );
    }
    return doc.keys as StoredKey[];
  }

  /**
   * Changes the keys: `change` gets them as they are, read under an exclusive `flock` on
   * `keys.json.lock` held until the new list is renamed into place (as `updateSchedules` in
   * host/schedule/schedule_file.ts), so two `gateway key add` at once both land, and the
   * first two share one seal key. `change` may throw to leave the file as it is.
   */
  async #update(change: (keys: StoredKey[]) => StoredKey[] | Promise<StoredKey[]>) {
    if (this.#env("PERMAFROST_GATEWAY_KEYS") !== undefined) {
      throw new Deno.errors.PermissionDenied(
        "the gateway's keys come from PERMAFROST_GATEWAY_KEYS: change them where that is set",
      );
    }
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const lock = await Deno.open(join(this.#dir, "keys.json.lock"), {
      create: true,
      write: true,
      mode: 0o600,
    });
    try {
      await lock.lock(true);
      await this.#write(await change(await this.#read()));
    } finally {
      lock.close(); // closing releases the flock
    }
  }

  async #write(keys: StoredKey[]): Promise<void> {
    const file = join(this.#dir, "keys.json");
    const temp = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify({ version: VERSION, keys }, null, 2) + "\n", {
      mode: 0o600,
    });
    await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, file);
  }

  async #seal(create: boolean): Promise<Uint8Array> {
    if (this.#sealKey) return this.#sealKey;
    const fromEnv = this.#env("PERMAFROST_GATEWAY_SEAL_KEY");
    if (fromEnv !== undefined) {
      if (!/^[0-9a-f]{64}$/i.test(fromEnv)) {
        throw new TypeError("PERMAFROST_GATEWAY_SEAL_KEY must be 64 hex digits (32 bytes)");
      }
      return this.#sealKey = Uint8Array.from(fromEnv.match(/../g)!, (h) => parseInt(h, 16));
    }
    const file = join(this.#dir, "seal.key");
    try {
      return this.#sealKey = await Deno.readFile(file);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || !create) throw e;
    }
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const key = crypto.getRandomValues(new Uint8Array(32));
    await Deno.writeFile(file, key, { mode: 0o600, createNew: true });
    return this.#sealKey = key;
  }
}

function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function unbase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
