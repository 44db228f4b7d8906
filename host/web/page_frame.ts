/**
 * The page shell every page shares: title, navigation, a little inline CSS. No external
 * assets and no script.
 *
 * @module
 */

import { type Html, html, raw } from "./html.ts";

const CSS = raw(`
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f8fa}
header{background:#14324a;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em;align-items:baseline;flex-wrap:wrap}
header a{color:#cfe6ff;text-decoration:none}header a.here{color:#fff;font-weight:600}
header .repo{margin-left:auto;font-size:.85em;opacity:.8;overflow-wrap:anywhere}
main{padding:1em 1.2em;max-width:1100px}
table{border-collapse:collapse;margin:.6em 0;background:#fff}
th,td{border:1px solid #d5dbe1;padding:.25em .6em;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num,.nowrap{white-space:nowrap}
td.date,td.verified,td.action{white-space:nowrap}td.source,td.paths{overflow-wrap:anywhere}
td.paths{min-width:10em}
#prices{width:100%}#prices thead th:first-child{width:30%}tr.group th{background:#eef2f6;font-size:1.05em;padding-top:.5em}
tr.chosen{background:#eaf5ea}#restore-jobs{width:100%}#restore-jobs td.expected{min-width:16em}
.chart{background:#fff;border:1px solid #d5dbe1;max-width:100%;height:auto}
.chart rect{fill:#3d7ab8}.chart .series{stroke:#3d7ab8;stroke-width:2}.chart circle{fill:#14324a}
.chart .axis{stroke:#888}.chart text{font-size:12px;fill:#1d2430}
figure.bars{display:grid;grid-template-columns:minmax(10em,34em) minmax(8em,1fr) max-content;gap:.35em .9em;align-items:center;margin:.6em 0;padding:.6em .9em;max-width:62em;font-size:.9em}
.bars .bar{display:grid;grid-column:1/-1;grid-template-columns:subgrid;align-items:center}
.bars .label{overflow-wrap:anywhere}.bars .track{display:block;width:100%;height:1.1em}
.bars .value{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.share{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;margin:.6em 0}
.share-bar{width:min(100%,30em);height:1.4em;border:1px solid #d5dbe1;background:#fff}
.share .part{fill:#c2410c}.share .rest{fill:#3d7ab8}
.legend{font-size:.9em;display:flex;gap:.4em;align-items:center}
.key{display:inline-block;width:.9em;height:.9em;border-radius:2px}.key.part{background:#c2410c}
.key.rest{background:#3d7ab8;margin-left:.6em}
.total{font-size:1.3em}.note{color:#5a6470;font-size:.9em}.error{color:#a40000}
form{background:#fff;border:1px solid #d5dbe1;padding:.8em;display:flex;gap:1em;flex-wrap:wrap;align-items:end}
label{display:flex;flex-direction:column;font-size:.9em}
input{max-width:100%}
`);

const NAV: [string, string][] = [
  ["/", "Cost"],
  ["/snapshots", "Snapshots"],
  ["/restore", "Restore estimate"],
  ["/restore-jobs", "Restore jobs"],
  ["/prices", "Prices"],
  ["/schedules", "Schedules"],
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
