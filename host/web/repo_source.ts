/**
 * The web view's data from the repository `permafrost serve` opened once at start: the bill
 * from `host/ops/repository_bill.ts` (what `permafrost cost` prints), the restore estimates
 * from the restore workflow (`estimateRestore`, host/workflows/restore_estimate.ts, what
 * `permafrost restore --estimate` prints), the restore jobs with their ETAs
 * (host/workflows/restore_eta.ts), the snapshots from the repository with their cost
 * share (`snapshot_share.ts`; each snapshot's trees walked once).
 *
 * @module
 */

import type { PriceTable } from "../cost/mod.ts";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import { decodeDetails, type SnapshotFinding } from "../repository/snapshot.ts";
import { repositoryBill } from "../ops/repository_bill.ts";
import { type RestoreTier, restoreTiers } from "../storage/storage.ts";
import { InvalidRequest } from "../workflows/invalid_request.ts";
import { type RepoPricing, repoPricing } from "../workflows/pricing.ts";
import { estimateRestore, restoreEstimateReport } from "../workflows/restore_estimate.ts";
import { restoreJobs } from "../workflows/restore_eta.ts";
import type { WebSource } from "./app.ts";
import type { CostReport } from "./cost_page.ts";
import type { RestoreEstimateReport, RestoreQuery } from "./restore_page.ts";
import type { RestoreJobsReport } from "./restore_jobs_page.ts";
import { SHARE_HOW, snapshotShares } from "./snapshot_share.ts";
import { scheduleStatuses } from "../schedule/status.ts";
import { schedulesFile } from "../schedule/schedule_file.ts";
import type { SchedulesReport } from "./schedules_page.ts";
import type { SnapshotsReport } from "./snapshots_page.ts";

export class RepoSource implements WebSource {
  /**
   * `repo` open at `location`; `region` overrides the store's own for prices (`--region`;
   * else the region that bills the store, else us-east-1: host/workflows/pricing.ts).
   */
  constructor(
    readonly repo: Repository,
    readonly location: string,
    readonly region?: string,
  ) {}

  /** Data blobs each snapshot references, by id, once walked. */
  #walked = new Map<string, Set<string>>();

  #options() {
    return {
      region: this.region,
      name: this.location,
      onWarning: (message: string) => console.error(`permafrost serve: warning: ${message}`),
    };
  }

  #pricing(): RepoPricing {
    return repoPricing(this.repo, this.#options());
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
    const findings = await snapshotFindings(this.repo, all);
    return {
      snapshots: all.map((s) => {
        const share = shares.get(s.id)!;
        return {
          ...(findings.has(s.id) ? { findings: findings.get(s.id) } : {}),
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
    if (!restoreTiers.includes(q.tier as RestoreTier)) {
      throw new InvalidRequest(`tier must be one of ${restoreTiers.join(", ")}, not "${q.tier}"`);
    }
    const estimate = await estimateRestore(
      this.repo,
      { snapshot: q.snapshot, path: q.path },
      { ...this.#options(), tier: q.tier as RestoreTier },
    );
    return restoreEstimateReport(estimate);
  }

  /**
   * The restore jobs this client saved for the repository (`restore` that stopped to wait),
   * each surveyed now for its ETA: what `permafrost restore --resume JOB` prints.
   */
  async restoreJobs(): Promise<RestoreJobsReport> {
    return await restoreJobs(this.repo.storage, this.location);
  }

  /** The table `cost` and the restore estimates price with (host/workflows/pricing.ts). */
  prices(): PriceTable {
    return this.#pricing().table;
  }

  /** This user's scheduled tasks and their runs (host/schedule/status.ts). */
  schedules(): Promise<SchedulesReport> {
    const file = schedulesFile();
    return Promise.resolve({ file, schedules: scheduleStatuses(file) });
  }
}

/**
 * The protection findings (docs/format.md §9.2) of each snapshot that has any, from its details
 * blob (hot metadata); none when the key cannot read details or a details blob cannot be read.
 */
async function snapshotFindings(
  repo: Repository,
  all: SnapshotEntry[],
): Promise<Map<string, SnapshotFinding[]>> {
  const out = new Map<string, SnapshotFinding[]>();
  if (!repo.canRead) return out;
  for (const s of all) {
    try {
      const details = decodeDetails(await repo.readBlob(s.manifest.details));
      if (details.findings && details.findings.length > 0) out.set(s.id, details.findings);
    } catch {
      // `check` reports a details blob that cannot be read; the page shows the rest
    }
  }
  return out;
}
