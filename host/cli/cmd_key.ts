import { sha256Hex } from "../crypto/hash.ts";
import { encodeKeyExport, wrapKeyFile } from "../repository/keyfile.ts";
import { toIngestKeys } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import { type Context, UsageError } from "./context.ts";
import { parseSize } from "./size.ts";

/** `key ingest --out FILE` and `key passwd`. */
export async function cmdKey(ctx: Context): Promise<number> {
  const [sub] = ctx.positionals;
  if (sub === "ingest") return await keyIngest(ctx);
  if (sub === "passwd") return await keyPasswd(ctx);
  throw new UsageError(
    `unknown key command "${sub ?? ""}": use "key ingest --out FILE" or "key passwd"`,
  );
}

async function keyIngest(ctx: Context): Promise<number> {
  const out = ctx.string("out");
  if (!out) throw new UsageError("key ingest needs --out FILE");
  const repo = await ctx.open();
  try {
    const bytes = encodeKeyExport(toIngestKeys(repo.keys), repo.config.id);
    try {
      Deno.writeFileSync(out, bytes, { mode: 0o600, createNew: true });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new UsageError(
          `"${out}" already exists; choose another --out (a key file is never overwritten)`,
        );
      }
      throw err;
    }
    ctx.print(
      { file: out, repository: repo.config.id, kind: "ingest" },
      () =>
        `wrote the put-only (ingest) key for repository ${repo.config.id.slice(0, 8)} to ${out}\n` +
        `  it can back up and list snapshots, and cannot read, restore or delete anything;\n` +
        `  use it with --key-file ${out} or PERMAFROST_KEY_FILE=${out}`,
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}

async function keyPasswd(ctx: Context): Promise<number> {
  const repo = await ctx.open();
  try {
    if (!repo.canRead || !repo.keyObject) {
      throw new UsageError("key passwd needs the repository passphrase, not a key file");
    }
    const next = await ctx.newPassphrase();
    const memlimit = ctx.string("kdf-memlimit");
    const bytes = await wrapKeyFile(
      repo.keys,
      next,
      memlimit ? { opslimit: 2, memlimit: parseSize(memlimit) } : undefined,
    );
    const name = layout.key(sha256Hex(bytes));
    // The new key is durable before the old one goes: a crash in between leaves both usable.
    await repo.storage.create(name, bytes);
    await repo.storage.delete(repo.keyObject);
    ctx.print(
      { key: name, removed: repo.keyObject },
      () => `passphrase changed (key ${name.slice(5, 13)}); no data was rewritten`,
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}
