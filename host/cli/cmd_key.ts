import { sha256Hex } from "../crypto/hash.ts";
import { encodeKeyExport, wrapKeyFile } from "../repository/keyfile.ts";
import { toIngestKeys } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import { type Context, jsonOption, repoOptions, UsageError } from "./context.ts";
import { type CommandGroup, refuseExtraArguments } from "./options.ts";
import { parseSize } from "../text/size.ts";

/** `key ingest --out FILE` and `key passwd`, each with the options it takes. */
export const keyCommands: CommandGroup = {
  subcommands: {
    // Writes a file here, nothing in the repository: no dry run.
    ingest: { options: { ...repoOptions, ...jsonOption, out: { type: "string" } }, run: keyIngest },
    passwd: {
      options: {
        ...repoOptions,
        ...jsonOption,
        "kdf-memlimit": { type: "string" },
        "dry-run": { type: "boolean" },
      },
      run: keyPasswd,
    },
  },
  refuse: (sub) =>
    new UsageError(
      `${sub === undefined ? "key needs a command" : `unknown key command "${sub}"`}: ` +
        `use "key ingest --out FILE" or "key passwd"`,
    ),
};

async function keyIngest(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
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

/** With `--dry-run`: opens the repository, checks, says what it would do; asks and writes nothing. */
async function keyPasswd(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const memlimit = ctx.string("kdf-memlimit");
  if (memlimit) parseSize(memlimit);
  const repo = await ctx.open();
  try {
    if (!repo.canRead || !repo.keyObject) {
      throw new UsageError("key passwd needs the repository passphrase, not a key file");
    }
    if (ctx.bool("dry-run")) {
      ctx.print(
        { dryRun: true, removed: repo.keyObject },
        () =>
          `dry run: nothing was written; would wrap the master key under a new passphrase in a ` +
          `new key object and remove ${repo.keyObject}`,
      );
      return 0;
    }
    const next = await ctx.newPassphrase();
    // Bound to this repository's config (docs/format.md §4.1), also when a version 1 key opened it.
    const bytes = await wrapKeyFile(
      repo.keys,
      next,
      repo.config.id,
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
