/**
 * The page shell every page shares: title, navigation, a little inline CSS. No external
 * assets and no script.
 *
 * @module
 */

import { type Html, html, raw } from "./html.ts";

const CSS = raw(`
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f8fa}
header{background:#14324a;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap}
header a{color:#cfe6ff;text-decoration:none}header a.here{color:#fff;font-weight:600}
header .repo{margin-left:auto;font-size:.85em;opacity:.8}
main{padding:1em 1.2em;max-width:1100px}
table{border-collapse:collapse;margin:.6em 0;background:#fff}
th,td{border:1px solid #d5dbe1;padding:.25em .6em;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.chosen{background:#eaf5ea}
.chart{background:#fff;border:1px solid #d5dbe1;max-width:100%;height:auto}
.chart rect{fill:#3d7ab8}.chart .series{stroke:#3d7ab8;stroke-width:2}.chart circle{fill:#14324a}
.chart .axis{stroke:#888}.chart text{font-size:12px;fill:#1d2430}
.total{font-size:1.3em}.note{color:#5a6470;font-size:.9em}.error{color:#a40000}
form{background:#fff;border:1px solid #d5dbe1;padding:.8em;display:flex;gap:1em;flex-wrap:wrap;align-items:end}
label{display:flex;flex-direction:column;font-size:.9em}
`);

const NAV: [string, string][] = [
  ["/", "Cost"],
  ["/snapshots", "Snapshots"],
  ["/restore", "Restore estimate"],
  ["/prices", "Prices"],
];

/** A whole page: `title` in the tab and as the heading, `here` the nav entry to mark. */
export function page(title: string, here: string, repo: string, body: Html): Html {
  const nav = NAV.map(([href, name]) =>
    html`<a href="${href}" class="${href === here ? "here" : ""}">${name}</a>`
  );
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width">
        <title>${title} · Permafrost</title>
        <style>${CSS}</style>
      </head>
      <body>
        <header><strong>Permafrost</strong>${nav}<span class="repo">${repo}</span></header>
        <main><h1>${title}</h1>
    ${body}</main>
      </body>
    </html>
  `;
}
