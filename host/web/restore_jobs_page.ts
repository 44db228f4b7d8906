/**
 * The restore jobs page: the jobs in this client's state folder for the repository, each with
 * what it restores, its tier, when it was requested, S3's window for it, how many packs are
 * readable and the expected finish. The data is the restore workflow's `restoreJobs`
 * (host/workflows/restore_eta.ts), the ETA `permafrost restore --resume JOB` prints; the
 * page only lays it out (times in UTC, as the CLI prints them; ISO times in `data-` attributes).
 *
 * @module
 */

import { type RestoreEta, type RestoreJobsReport, when } from "../workflows/restore_eta.ts";
import { type Html, html } from "./html.ts";

export type { RestoreJobsReport };

/** The table of jobs, or a sentence when there are none; damaged job files are named. */
export function restoreJobsBody(r: RestoreJobsReport): Html {
  const damaged = r.damaged.length > 0
    ? html`<p class="error" id="damaged">Not readable as restore jobs: ${r.damaged.join(", ")}</p>`
    : "";
  const where = html`<p class="note">Jobs of this repository in <code>${r.dir}</code>; resume
    one with <code>permafrost restore --resume JOB</code>.</p>`;
  if (r.jobs.length === 0) {
    return html`${where}<p id="no-jobs">No restore job is waiting for this repository.</p>${damaged}`;
  }
  const rows = r.jobs.map((j) => {
    const what = html`<code>${j.snapshot.slice(0, 12)}:${j.path}</code> → <code>${j.target}</code>`;
    if ("error" in j) {
      return html`
        <tr data-job="${j.id}">
          <td><code>${j.id}</code></td>
          <td class="paths">${what}</td>
          <td>${j.tier}</td>
          <td class="error" colspan="4">${j.error}</td>
        </tr>
      `;
    }
    const e = j.eta;
    const changes = (e.tierChanges.length > 1 ? e.tierChanges : []).map((c) =>
      html`<br><span class="note">${c.tier} from ${when(c.at)}</span>`
    );
    const window = e.window
      ? html`
        <td class="window date" data-earliest="${e.window.earliest}"
          data-latest="${e.window.latest}">${when(e.window.earliest)} –<br>${when(
            e.window.latest,
          )}<br><span class="note">${e.window.documented}</span></td>
      `
      : html`<td class="window">not documented</td>`;
    return html`
      <tr data-job="${j.id}" data-basis="${e.basis}">
        <td><code>${j.id}</code></td>
        <td class="paths">${what}</td>
        <td class="tier">${e.tier}</td>
        <td class="requested date" data-at="${e.requestedAt}">${when(e.requestedAt)}${changes}</td>
        ${window}
        <td class="num packs" data-ready="${e.packs.ready}" data-total="${e.packs.total}">${e.packs
          .ready}/${e.packs.total}</td>
        <td class="expected ${e.basis === "overdue" ? "error" : ""}" data-at="${e.expected ??
          ""}">${expected(e)}</td>
      </tr>
    `;
  });
  return html`${where}
    <table id="restore-jobs"><tr><th>job</th><th>what</th><th>tier</th><th>requested</th>
      <th>ready between (S3's window)</th><th class="num">packs ready</th><th>expected finish</th></tr>
    ${rows}</table>${damaged}`;
}

/** The expected finish on a line of its own when there is one, then how it was worked out. */
function expected(e: RestoreEta): Html {
  if (e.expected === null) return html`${e.says}`;
  return html`<strong class="nowrap">${
    when(e.expected)
  }</strong><br><span class="note">${e.says}</span>`;
}
