import { KeyCannotRead } from "../../plugins/sdk/errors.ts";
import { useIndexCache } from "../cache/index_cache.ts";
import type { ColdPolicy } from "../mount/mount.ts";
import type { Repository } from "../repository/repository.ts";
import { type RestoreTier, restoreTiers } from "../storage/storage.ts";
import { type Context, plural, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";
import { stopOnSignal } from "../storage/orderly_close.ts";

export const mountOptions = {
  ...repoOptions,
  snapshot: { type: "string" },
  thaw: { type: "boolean" },
  tier: { type: "string" },
  days: { type: "string" },
  yes: { type: "boolean", short: "y" },
} as const satisfies OptionTable;

/**
 * `mount DIR [--snapshot ID]`: serves the snapshots read-only at DIR until Ctrl-C, SIGTERM or
 * `permafrost umount DIR` (docs/mount.md). Exit 0 once unmounted. `--thaw` (with `--tier`,
 * `--days` and `--yes`) requests the restore of what a cold read needs.
 */
export async function cmdMount(ctx: Context): Promise<number> {
  const [dir] = ctx.positionals;
  refuseExtraArguments(ctx, 1);
  if (!dir) throw new UsageError("mount needs a folder to mount on");
  const thawOnly = ["tier", "days", "yes"].filter((o) => ctx.flags[o] !== undefined);
  if (!ctx.bool("thaw") && thawOnly.length > 0) {
    throw new UsageError(`--${thawOnly[0]} goes with --thaw (it says how cold reads are restored)`);
  }
  await requireFolder(dir);
  const { mountSnapshots, shellQuote } = await import("../mount/mount.ts");
  const repo = await ctx.open();
  try {
    if (!repo.canRead) {
      throw new KeyCannotRead(
        "an ingest key cannot read snapshots: mount with the passphrase or a full key file",
      );
    }
    const ref = ctx.string("snapshot");
    const only = ref === undefined ? undefined : await repo.snapshot(ref);
    const snapshots = only ? [only] : await repo.snapshots();
    useIndexCache(repo, ctx.cacheDir());
    await repo.loadIndex();
    const given = ctx.string("repo");
    const cold = ctx.bool("thaw") ? await thawing(ctx, repo) : undefined;
    const mounted = mountSnapshots(repo, snapshots, dir, {
      only,
      cold,
      restoreCommand: (s, p) =>
        `permafrost restore ${shellQuote(`${s.slice(0, 8)}:${p}`)} --target DIR` +
        (given ? ` --repo ${shellQuote(given)}` : ""),
    });
    // SIGINT or SIGTERM unmounts; the loop then ends and the storage closes below: exit 0.
    const release = stopOnSignal(() => mounted.unmount());
    try {
      console.error(
        `permafrost mount: ${
          only ? `snapshot "${only.id.slice(0, 8)}"` : plural(snapshots.length, "snapshot")
        } mounted read-only at "${dir}"; stop with Ctrl-C or \`permafrost umount ${
          shellQuote(dir)
        }\``,
      );
      await mounted.done;
    } finally {
      release();
    }
    console.error(`permafrost mount: "${dir}" unmounted`);
    return 0;
  } finally {
    await repo.storage.close();
  }
}

/**
 * `--thaw [--tier T] [--days N] --yes`: the policy that requests restores on cold reads, after
 * printing what S3 bills for them; refused without `--yes` (the reads decide how much).
 */
async function thawing(ctx: Context, repo: Repository): Promise<ColdPolicy> {
  const { withTierFlag } = await import("./thaw_flags.ts");
  const { cliPricing } = await import("./pricing.ts");
  const { thawOnRead, thawPriceText } = await import("../mount/thaw_on_read.ts");
  const tier = ctx.string("tier") ?? "bulk";
  if (!restoreTiers.includes(tier as RestoreTier)) {
    throw new UsageError(`--tier must be one of ${restoreTiers.join(", ")}, not "${tier}"`);
  }
  const daysText = ctx.string("days") ?? "1";
  const days = Number(daysText);
  if (!/^[0-9]+$/.test(daysText) || days < 1) {
    throw new UsageError(`--days must be a whole number of days, at least 1, not "${daysText}"`);
  }
  const settings = { tier: tier as RestoreTier, days };
  const price = await withTierFlag(() =>
    thawPriceText(cliPricing(ctx, repo, ctx.requireRepo()), settings)
  );
  if (!ctx.bool("yes")) {
    throw new UsageError(
      `--thaw requests the restore of each cold file a program reads, billed at ${price}; ` +
        "how much depends on what is read: add --yes to accept",
    );
  }
  console.error(
    `permafrost mount: --thaw: a read of a cold file requests its packs' restore, ${price}`,
  );
  return thawOnRead(repo, settings);
}

/** Refuses a `dir` that is not an existing empty folder, or is a mount already, saying why. */
async function requireFolder(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`"${dir}" does not exist: create the folder, then mount`);
    }
    if (err instanceof Error && /not connected/i.test(err.message)) {
      throw new Deno.errors.AlreadyExists(
        `"${dir}" is a mount whose process ended: run \`permafrost umount ${dir}\` first`,
      );
    }
    throw err;
  }
  if (!info.isDirectory) throw new Deno.errors.NotADirectory(`"${dir}" is not a folder`);
  const { mountPath, mountTypeAt, MOUNT_TYPE } = await import("../mount/unmount.ts");
  const type = await mountTypeAt(await mountPath(dir));
  if (type !== undefined) {
    throw new Deno.errors.AlreadyExists(
      `"${dir}" is already a mount (${type}): ` +
        (type === MOUNT_TYPE
          ? `run \`permafrost umount ${dir}\` first, or mount on another empty folder`
          : "mount on an empty folder that is no mount"),
    );
  }
  for await (const _ of Deno.readDir(dir)) {
    throw new Deno.errors.AlreadyExists(
      `"${dir}" is not empty: mount on an empty folder (a mount would hide what is in it)`,
    );
  }
}
