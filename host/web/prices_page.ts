/**
 * The price table in use (`/api/prices`): every figure of the region's table and the rules,
 * one row each, with its source, date and whether it was verified.
 *
 * @module
 */

import type { Figure, PriceTable } from "../cost/mod.ts";
import { type Html, html } from "./html.ts";

/** One figure and where in the table it sits (`storage_gb_month.STANDARD.0.usd`). */
export interface PriceRow {
  path: string;
  value: unknown;
  source: string;
  date: string;
  verified: boolean;
  note?: string;
}

function isFigure(x: unknown): x is Figure<unknown> {
  return typeof x === "object" && x !== null && "value" in x && "source" in x && "date" in x;
}

/** Every figure in `table`, in the table's order. */
export function priceRows(table: PriceTable): PriceRow[] {
  const rows: PriceRow[] = [];
  const walk = (x: unknown, path: string) => {
    if (isFigure(x)) {
      rows.push({
        path,
        value: x.value,
        source: x.source,
        date: x.date,
        verified: x.verified,
        ...(x.note ? { note: x.note } : {}),
      });
    } else if (typeof x === "object" && x !== null) {
      for (const [k, v] of Object.entries(x)) walk(v, path === "" ? k : `${path}.${k}`);
    }
  };
  const { region: _r, name: _n, date: _d, origin: _o, ...figures } = table;
  walk(figures, "");
  return rows;
}

/** The page's body. */
export function pricesBody(table: PriceTable): Html {
  const rows = priceRows(table).map((r) =>
    html`
      <tr>
        <td><code>${r.path}</code></td>
        <td class="num">${String(r.value)}</td>
        <td>${r.date}</td>
        <td>${r.verified ? "yes" : "best known"}</td>
        <td>${/^https:\/\//.test(r.source)
          ? html`<a href="${r.source}" rel="noreferrer">${r.source}</a>`
          : r.source}${r.note ? html`<br><span class="note">${r.note}</span>` : ""}</td>
      </tr>
    `
  );
  return html`
    <p
      id="table-in-use">Region <strong>${table.region}</strong> (${table
        .name}), table of <strong>${table.date}</strong>: ${table.origin}.</p>
    <p
      class="note">Dollars (USD) as AWS bills them; "best known" figures were not read in a stored copy of their page.</p>
    <table
      id="prices"><tr><th>figure</th><th class="num">value</th><th>checked</th><th>verified</th><th>source</th></tr>
    ${rows}</table>
  `;
}
