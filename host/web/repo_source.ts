/**
 * The web view's data from the repository `permafrost serve` opened once at start: the bill
 * from `host/ops/repository_bill.ts` (what `permafrost cost` prints), the restore estimates
 * from the `restore --estimate` command itself (`command_json.ts`), the snapshots from the
 * repository with their cost share (`snapshot_share.ts`; each snapshot's trees walked once).
 *
 * @module
 */

import { cmdRestore } from "../cli/cmd_restore.ts";
import { Context, type Flags } from "../cli/context.ts";
import { repoPricing } from "../cli/pricing.ts";
import type { PriceTable } from "../cost/mod.ts";
import type { Repository } from "../repository/repository.ts";
import { repositoryBill } from "../ops/repository_bill.ts";
import type { WebSource } from "./app.ts";
import { commandJson } from "./command_json.ts";
import type { CostReport } from "./cost_page.ts";
import type { RestoreEstimateReport, RestoreQuery } from "./restore_page.ts";
import { SHARE_HOW, snapshotShares } from "./snapshot_share.ts";
import type { SnapshotsReport } from "./snapshots_page.ts";

export class RepoSource implements WebSource {
  /**
   * `repo` open at `location`; `region` is `--region` when given (else the commands' own
   * choice: the S3 location's region, else us-east-1).
   */
  constructor(
    readonly repo: Repository,
    readonly location: string,
    readonly region?: string,
  ) {}

  /** Data blobs each snapshot references, by id, once walked. */
  #walked = new Map<string, Set<string>>();

  #pricing() {
    const ctx = new Context([], this.#flags());
    return repoPricing(ctx, this.location, this.repo.config.cold.storageClass);
  }

  #flags(): Flags {
    return { repo: this.location, ...(this.region ? { region: this.region } : {}) };
  }

  async cost(): Promise<CostReport> {
    return await repositoryBill(this.repo, this.#pricing());
  }

  async snapshots(): Promise<SnapshotsReport> {
    const all = await this.repo.snapshots();
    const [shares, bill] = await Promise.all([
      snapshotShares(this.repo, all, this.#walked),
      this.cost(),
    ]);
    return {
      snapshots: all.map((s) => {
        const share = shares.get(s.id)!;
        return {
          id: s.id,
          time: s.manifest.time,
          host: s.manifest.host,
          paths: s.manifest.paths,
          tags: s.manifest.tags,
          files: s.manifest.stats.files,
          size: s.manifest.stats.bytes,
          cost_share: {
            referenced_bytes: share.referencedBytes,
            attributed_bytes: Math.round(share.attributedBytes),
            share: share.share,
            usd_month: Math.round(share.share * bill.recurring_usd * 1e6) / 1e6,
          },
        };
      }),
      cost_share: { basis_usd_month: bill.recurring_usd, how: SHARE_HOW },
    };
  }

  async restoreEstimate(q: RestoreQuery): Promise<RestoreEstimateReport> {
    const flags = { ...this.#flags(), estimate: true, tier: q.tier };
    return await commandJson(
      cmdRestore,
      this.repo,
      [`${q.snapshot}:${q.path}`],
      flags,
    ) as RestoreEstimateReport;
  }

  /** The table `cost` and `restore --estimate` price with (`repoPricing`, host/cli/pricing.ts). */
  prices(): PriceTable {
    return this.#pricing().table;
  }
}
