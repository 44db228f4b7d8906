/**
 * The restore estimator: a plain GET form (snapshot, path, tier) and, once asked, the restore
 * workflow's estimate (host/workflows/restore_estimate.ts, which `permafrost restore SNAP:PATH
 * --estimate` prints too): the packs and bytes to read,
 * and dollars and time for every tier, to the internet and in the region (the time once, as
 * the CLI prints it; the exact hours are in the cell's data attributes).
 *
 * @module
 */

import { restoreTiers } from "../cold/restore_times.ts";
import type { Estimate } from "../cost/mod.ts";
import { bytes, hoursText, usd } from "./format.ts";
import { type Html, html } from "./html.ts";

/**
 * What the page shows of an estimate: the fields it reads of the workflow's
 * `RestoreEstimateReport` (host/workflows/restore_estimate.ts), which fits this.
 */
export interface RestoreEstimateReport extends Estimate {
  tier: string | null;
  to: string;
  alternatives: (Estimate & { tier: string | null; to: string })[];
  plan: {
    snapshot: string;
    path: string;
    files: number;
    bytes: number;
    packs: number;
    packBytes: number;
    readBytes: number;
  };
  notes: string[];
}

/** The form's values. */
export interface RestoreQuery {
  snapshot: string;
  path: string;
  tier: string;
}

/** The form, then the estimate or the error, when there is one. */
export function restoreBody(
  snapshots: { id: string; time: string }[],
  query: RestoreQuery,
  result?: { report: RestoreEstimateReport } | { error: string },
): Html {
  const options = snapshots.slice().reverse().map((s) =>
    html`<option value="${s.id}" ${s.id === query.snapshot ? "selected" : ""}>${
      s.id.slice(0, 12)
    } (${s.time.replace("T", " ").slice(0, 16)})</option>`
  );
  const tiers = restoreTiers.map((t) =>
    html`<option value="${t}" ${t === query.tier ? "selected" : ""}>${t}</option>`
  );
  const form = html`<form method="get" action="/restore" id="estimator">
<label>Snapshot<select name="snapshot">${options}</select></label>
<label>Path<input name="path" value="${query.path}" size="40"></label>
<label>Tier<select name="tier">${tiers}</select></label>
<button type="submit">Estimate</button></form>`;
  if (!result) return form;
  if ("error" in result) return html`${form}<p class="error" id="error">${result.error}</p>`;
  return html`${form}${estimateBody(result.report)}`;
}

/** The one time column's heading: what the hours of an alternative are the time of. */
const TIME = "time to restore (thaw, then download)";

function estimateBody(r: RestoreEstimateReport): Html {
  const p = r.plan;
  const rows = r.alternatives.map((a) => {
    const chosen = a.tier === r.tier && a.to === r.to;
    return html`
      <tr class="${chosen ? "chosen" : ""}" data-tier="${a.tier ?? ""}" data-to="${a.to}">
        <td>${a.tier ?? "no restore needed"}</td>
        <td>${where(a)}</td>
        <td class="num usd" data-usd="${a.total_usd}">${usd(a.total_usd)}</td>
        <td class="hours" data-min="${a.hours.min}" data-max="${a.hours.max}">${hoursText(
          a.hours,
        )}</td>
      </tr>
    `;
  });
  return html`
    <section id="estimate">
      <p>Restoring <code>${p.path}</code> of snapshot <code>${p.snapshot.slice(0, 12)}</code>: ${p
        .files} files, ${bytes(p.bytes)}, from <strong id="packs">${p
        .packs}</strong> packs (${bytes(p.packBytes)}; reading ${bytes(p.readBytes)}).</p>
      <p
        class="total">Chosen (${r.tier ?? "no restore"}, ${where(
          r,
        )}): <strong id="chosen-usd" data-usd="${r.total_usd}">${usd(
          r.total_usd,
        )}</strong>, ${hoursText(r.hours)}</p>
      <table
        id="alternatives"><tr><th>tier</th><th>to</th><th class="num">dollars</th><th>${TIME}</th></tr>
    ${rows}</table>
      <ul class="note">${r.notes.map((n) => html`<li>${n}</li>`)}<li>prices: ${r.prices.region}, ${r
        .prices.date} (${r.prices.source})</li></ul>
    </section>
  `;
}

/** Where the data goes, in words. */
function where(a: { to: string; prices: { region: string } }): string {
  return a.to === "internet" ? "download outside AWS" : `a job in ${a.prices.region}`;
}
