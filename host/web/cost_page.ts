/**
 * The cost dashboard: this month's bill (`permafrost cost --json`) as a bar per line item, the
 * 12-month projection as a line, the objects per kind and class, the dead share of the bill as
 * a bar (when a `gc mark` has measured it), and the notes.
 *
 * @module
 */

import type { Estimate, Projection } from "../cost/mod.ts";
import { barChart, lineChart, shareBar } from "./charts.ts";
import { bytes, percent, usd } from "./format.ts";
import { type Html, html } from "./html.ts";

/** What `permafrost cost --json` prints (`RepositoryBill`, host/ops/repository_bill.ts). */
export interface CostReport extends Estimate {
  recurring_usd: number;
  projection: Projection;
  objects: { kind: string; storage_class: string; objects: number; bytes: number }[];
  totals: { objects: number; bytes: number };
  /** From the latest `gc mark`; `share` and `usd` null when there is none. */
  dead_data: {
    share: number | null;
    usd: number | null;
    bytes?: number | null;
    marked_at?: string | null;
    note: string;
  };
  notes: string[];
}

/** The dashboard's body. */
export function costBody(report: CostReport): Html {
  const p = report.projection;
  const last = p.cumulative_usd[p.cumulative_usd.length - 1] ?? 0;
  return html`
    <p
      class="total">This month: <strong id="total-usd" data-usd="${report.total_usd}">${usd(
        report.total_usd,
      )}</strong>; every later month <span id="recurring-usd" data-usd="${report
        .recurring_usd}">${usd(report.recurring_usd)}</span>; ${report.totals
        .objects} objects, ${bytes(report.totals.bytes)}.</p>
    <p class="note">Prices: ${report.prices.region}, table of ${report.prices.date} (${report.prices
      .source}).</p>
    <h2>This month, by line item</h2>
    ${barChart(
      "This month's bill by line item",
      report.items.map((i) => ({ label: i.what, value: i.usd, text: usd(i.usd) })),
    )}
    <table
      id="items"><tr><th>what</th><th class="num">quantity</th><th>unit</th><th class="num">unit price</th><th class="num">usd</th></tr>
    ${report.items.map((i) =>
      html`
        <tr>
          <td>${i.what}</td>
          <td class="num">${i.quantity}</td>
          <td>${i.unit}</td>
          <td class="num">${i.unit_usd}</td>
          <td class="num">${usd(i.usd)}</td>
        </tr>
      `
    )}</table>
    <h2>The next ${p.months.length} months</h2>
    <div id="projection">${lineChart(
      `Projected bill for the next ${p.months.length} months`,
      p.months.map((m, i) => ({ label: m, value: p.usd[i], text: usd(p.usd[i]) })),
      usd,
    )}</div>
    <p>Total over ${p.months.length} months: <strong id="projection-total">${usd(last)}</strong></p>
    <h2>Objects</h2>
    <table
      id="objects"><tr><th>kind</th><th>class</th><th class="num">objects</th><th class="num">size</th></tr>
    ${report.objects.map((o) =>
      html`
        <tr>
          <td>${o.kind}</td>
          <td>${o.storage_class}</td>
          <td class="num">${o.objects}</td>
          <td class="num">${bytes(o.bytes)}</td>
        </tr>
      `
    )}</table>
    ${deadData(report.dead_data)}
    <ul class="note">${report.notes.map((n) => html`<li>${n}</li>`)}</ul>
  `;
}

/**
 * The dead share of the bill from the latest `gc mark` as a bar (dead, then live) with the
 * numbers beside it, or how to get it.
 */
function deadData(dead: CostReport["dead_data"]): Html {
  if (dead.share === null || dead.usd === null) {
    return html`<p id="dead-data" class="note">Dead data: ${dead.note}</p>`;
  }
  const share = percent(dead.share);
  const alt = `Dead data: ${share} of the monthly bill, ${usd(dead.usd)} a month`;
  return html`
    <section id="dead-data">
      <h2>Dead data</h2>
      ${shareBar(dead.share, { part: "dead", rest: "live" }, alt)}
      <p><strong id="dead-share" data-share="${dead.share}">${share}</strong> of the monthly bill
        is for data no snapshot needs: <span id="dead-usd" data-usd="${dead.usd}">${usd(
          dead.usd,
        )}</span> a month${dead.bytes != null ? `, ${bytes(dead.bytes)}` : ""}.</p>
      <p class="note">${dead.note.charAt(0).toUpperCase()}${dead.note.slice(1)}.</p>
    </section>
  `;
}
