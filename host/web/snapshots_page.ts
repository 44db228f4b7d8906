/**
 * The snapshots page: every snapshot with its size and its cost share (`/api/snapshots`).
 *
 * @module
 */

import { bytes, percent, usd } from "./format.ts";
import { type Html, html } from "./html.ts";
import type { SnapshotFinding } from "../repository/snapshot.ts";

/** One snapshot as `/api/snapshots` sends it. */
export interface SnapshotRow {
  id: string;
  time: string;
  host: string;
  paths: string[];
  tags: string[];
  files: number;
  /** Plaintext bytes of its files. */
  size: number;
  cost_share: {
    referenced_bytes: number;
    attributed_bytes: number;
    share: number;
    usd_month: number;
  };
  /**
   * Protected files this snapshot's backup found changed or vanished (docs/engines.md); only
   * for the snapshots that have any.
   */
  findings?: SnapshotFinding[];
}

/** What `/api/snapshots` sends: the rows, the bill the shares divide, and how. */
export interface SnapshotsReport {
  snapshots: SnapshotRow[];
  cost_share: { basis_usd_month: number; how: string };
}

/** The page's body. */
export function snapshotsBody(report: SnapshotsReport): Html {
  if (report.snapshots.length === 0) return html`<p>No snapshots yet.</p>`;
  const rows = report.snapshots.map((s) =>
    html`
      <tr data-id="${s.id}">
        <td><code title="${s.id}">${s.id.slice(0, 12)}</code></td>
        <td class="time"><span class="nowrap">${s.time.slice(0, 10)}</span> ${s.time.slice(
          11,
          19,
        )}</td>
        <td>${s.host}</td>
        <td class="paths">${s.paths.join(" ")}</td>
        <td class="tags">${s.tags.join(", ")}</td>
        <td class="num">${s.files}</td>
        <td class="num">${bytes(s.size)}</td>
        <td class="num">${bytes(s.cost_share.attributed_bytes)}</td>
        <td class="num">${percent(s.cost_share.share)}</td>
        <td class="num">${usd(s.cost_share.usd_month)}</td>
        <td class="action"><a href="/restore?snapshot=${s.id}">estimate a restore</a></td>
      </tr>
    `
  );
  return html`
    <table
      id="snapshots"><tr><th>id</th><th>time (UTC)</th><th>host</th><th>paths</th><th>tags</th><th class="num">files</th><th class="num">size</th><th class="num">data attributed</th><th class="num">share</th><th class="num">per month</th><th></th></tr>
    ${rows}</table>
    <p class="note">Cost share of ${usd(report.cost_share.basis_usd_month)} a month: ${report
      .cost_share.how}.</p>
    ${findingsSection(report.snapshots)}
  `;
}

/**
 * The protected files that changed or vanished, by snapshot, each with the snapshot holding the
 * original and the command that restores it; nothing when no snapshot has any.
 */
function findingsSection(snapshots: SnapshotRow[]): Html {
  const withFindings = snapshots.filter((s) => (s.findings ?? []).length > 0);
  if (withFindings.length === 0) return html``;
  const rows = withFindings.flatMap((s) =>
    s.findings!.map((f) =>
      html`
        <tr data-snapshot="${s.id}">
          <td><code title="${s.id}">${s.id.slice(0, 12)}</code></td>
          <td class="kind">${f.kind}</td>
          <td class="paths">${f.path}</td>
          <td><code title="${f.snapshot}">${f.snapshot.slice(0, 12)}</code></td>
          <td><code class="restore">${f.restore}</code></td>
        </tr>
      `
    )
  );
  return html`
    <h2>Protected files changed or vanished</h2>
    <table
      id="findings"><tr><th>found by</th><th>what</th><th>path</th><th>original in</th><th>restore the original</th></tr>
    ${rows}</table>
  `;
}
