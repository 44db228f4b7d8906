import { type ConfigOverrides, newConfig } from "../repository/config.ts";
import { layout } from "../repository/layout.ts";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { parseSize } from "../text/size.ts";
import { bytes, type Context, jsonOption, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { type StorageClass, storageClasses } from "../storage/storage.ts";

/** A new repository's settings: `backup` takes them too, for the default repository it creates. */
export const newRepositoryOptions = {
  "pack-size": { type: "string" },
  "cold-class": { type: "string" },
  "kdf-memlimit": { type: "string" },
} as const satisfies OptionTable;

/**
 * No `--key-file`: a new repository's key comes from the passphrase. `--config`: the file whose
 * `repository` it creates when neither `--repo` nor PERMAFROST_REPO is set.
 */
export const initOptions = {
  repo: { type: "string" },
  config: { type: "string" },
  ...jsonOption,
  ...newRepositoryOptions,
  "dry-run": { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `init [--repo R] [--pack-size SIZE] [--cold-class CLASS] [--kdf-memlimit SIZE] [--dry-run]`:
 * creates a repository and its master key. `--dry-run` checks the options and the location,
 * says what it would create, and asks and creates nothing.
 */
export async function cmdInit(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const location = ctx.requireRepo();
  if (ctx.bool("dry-run")) return await initDryRun(ctx, location);
  let repo: Repository;
  try {
    repo = await initRepository(ctx, location);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    throw new Deno.errors.AlreadyExists(
      `"${location}" already holds a repository: back up into it with --repo "${location}" ` +
        "(or PERMAFROST_REPO), or give init another location",
    );
  }
  ctx.print(
    { id: repo.config.id, location, config: repo.config },
    () => `created repository ${repo.config.id.slice(0, 8)} at ${location}`,
  );
  await repo.storage.close();
  return 0;
}

/** {@link newRepositoryOptions}, parsed (before anything is asked or created). */
export function newRepositorySettings(
  ctx: Context,
): { config: ConfigOverrides; kdfMemlimit?: number } {
  const packSize = ctx.string("pack-size");
  const memlimit = ctx.string("kdf-memlimit");
  const dataSize = packSize ? parseSize(packSize) : undefined;
  const kdfMemlimit = memlimit ? parseSize(memlimit) : undefined;
  const coldClass = ctx.string("cold-class");
  if (coldClass !== undefined && !storageClasses.includes(coldClass as StorageClass)) {
    throw new UsageError(`--cold-class must be one of ${storageClasses.join(", ")}`);
  }
  return {
    config: {
      ...(dataSize ? { pack: { dataSize } } : {}),
      ...(coldClass ? { cold: { storageClass: coldClass as StorageClass } } : {}),
    },
    kdfMemlimit,
  };
}

/**
 * `init --dry-run`: the config `init` would write (checked as `init` checks it), and a refusal
 * where `init` would refuse (a location that holds a repository, or its data without a config);
 * no passphrase, nothing written.
 */
async function initDryRun(ctx: Context, location: string): Promise<number> {
  const { config } = newRepositorySettings(ctx);
  const { id: _, created: __, ...would } = newConfig(config);
  if (await holdsRepository(location)) {
    throw new Deno.errors.AlreadyExists(`"${location}" already holds a repository`);
  }
  const storage = await openStorage(location, "ingest").catch(() => undefined);
  if (storage) {
    try {
      await Repository.assertCreatable(storage); // a lost config: init would refuse it
    } finally {
      await storage.close();
    }
  }
  ctx.print(
    { dryRun: true, location, config: would },
    () =>
      `dry run: nothing was created; would create a repository at ${location} (data packs of ` +
      `${bytes(would.pack.dataSize)}, cold class ${would.cold.storageClass})`,
  );
  return 0;
}

/** Whether `location` holds a repository (a config); opens it without creating anything. */
export async function holdsRepository(location: string): Promise<boolean> {
  const storage = await openStorage(location, "ingest").catch(() => undefined);
  if (!storage) return false;
  try {
    return (await storage.stat(layout.config())) !== null;
  } finally {
    await storage.close();
  }
}

/** Creates a repository at `location` with a passphrase asked twice. */
export async function initRepository(ctx: Context, location: string): Promise<Repository> {
  // Parse everything before anything is created.
  const { config, kdfMemlimit } = newRepositorySettings(ctx);
  const passphrase = await ctx.passphrase(true, "new repository passphrase");
  const storage = await openStorage(location, "admin", { create: true });
  let repo: Repository;
  try {
    repo = await Repository.init(storage, passphrase, {
      config,
      kdf: kdfMemlimit ? { opslimit: 2, memlimit: kdfMemlimit } : undefined,
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
  // Key objects an interrupted or losing init left, removed (docs/format.md §4.1).
  for (const w of repo.warnings.splice(0)) console.error(`note: ${w}`);
  return repo;
}

/**
 * For a first backup: creates the repository at `location`, or, when another process created it
 * at the same time (two first backups at once), opens that one with this passphrase, which must
 * then be its passphrase (docs/format.md §4.1: only the winner's key opens it).
 */
export async function createOrOpen(ctx: Context, location: string): Promise<Repository> {
  try {
    return await initRepository(ctx, location);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    console.error(
      `another process created the repository at ${location} at the same time: opening it ` +
        "with this passphrase",
    );
    return await ctx.open(location);
  }
}
