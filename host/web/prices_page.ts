/**
 * The price table in use (`/api/prices`): every figure of the region's table and the rules,
 * one row each in words (`price_labels.ts`), grouped, with its value and unit, the date it was
 * checked, whether it was verified, and its source.
 *
 * @module
 */

import type { Figure, PriceTable } from "../cost/mod.ts";
import { type Html, html } from "./html.ts";
import { GROUPS, inWords, readFigure } from "./price_labels.ts";

/** One figure and where in the table it sits (`storage_gb_month.STANDARD.0.usd`). */
export interface PriceRow {
  /** The figure's keys in the table, for machines (the API's names); the page shows `label`. */
  path: string;
  group: string;
  label: string;
  value: unknown;
  /** The value with its unit, in words. */
  text: string;
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
  const walk = (x: unknown, path: string[]) => {
    if (isFigure(x)) {
      const { group, label, value } = readFigure(path, x.value, table);
      rows.push({
        path: path.join("."),
        group,
        label,
        value: x.value,
        text: value,
        source: x.source,
        date: x.date,
        verified: x.verified,
        ...(x.note ? { note: x.note } : {}),
      });
    } else if (typeof x === "object" && x !== null) {
      for (const [k, v] of Object.entries(x)) walk(v, [...path, k]);
    }
  };
  const { region: _r, name: _n, date: _d, origin: _o, ...figures } = table;
  walk(figures, []);
  return rows;
}

/** The page's body: the table in use, then one group of rows per kind of figure. */
export function pricesBody(table: PriceTable): Html {
  const rows = priceRows(table);
  const groups = GROUPS.map((g) => ({ name: g, rows: rows.filter((r) => r.group === g) }))
    .filter((g) => g.rows.length > 0);
  return html`
    <p
      id="table-in-use">Region <strong>${table.region}</strong> (${table
        .name}), table of <strong>${table.date}</strong>: ${table.origin}.</p>
    <p
      class="note">Dollars (USD) as AWS bills them; "best known" figures were not read in a stored copy of their page.</p>
    <table id="prices">
      <thead><tr><th>figure</th><th class="num">price or value</th><th>checked</th><th>verified</th><th>source</th></tr></thead>
      ${groups.map((g) =>
        html`<tbody><tr class="group"><th colspan="5" scope="rowgroup">${g.name}</th></tr>${
          g.rows.map(priceRow)
        }</tbody>`
      )}
    </table>
  `;
}

function priceRow(r: PriceRow): Html {
  return html`
    <tr data-path="${r.path}">
      <td>${r.label}</td>
      <td class="num">${r.text}</td>
      <td class="date">${r.date}</td>
      <td class="verified">${r.verified ? "yes" : "best known"}</td>
      <td class="source">${/^https:\/\//.test(r.source)
        ? html`<a href="${r.source}" title="${r.source}" rel="noreferrer">${linkText(r.source)}</a>`
        : r.source}${r.note ? html`<br><span class="note">${inWords(r.note)}</span>` : ""}</td>
    </tr>
  `;
}

/**
 * A source address short enough for its column: the host and path, with the middle of a deep
 * path elided (`docs.aws.amazon.com/…/storage-class-intro.html`); the whole address is the
 * link and its tooltip.
 */
function linkText(url: string): string {
  const { host, pathname } = new URL(url);
  const parts = pathname.split("/").filter((p) => p !== "");
  return parts.length > 2 ? `${host}/…/${parts[parts.length - 1]}` : `${host}/${parts.join("/")}`;
}
