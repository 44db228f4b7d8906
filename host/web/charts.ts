/**
 * Inline SVG charts drawn from the numbers, with a text label on every bar and point (so a
 * reader, a screen reader and a test can read the values, not only see them). No script, no
 * external assets: the SVG is part of the page.
 *
 * @module
 */

import { type Html, html } from "./html.ts";

/** One bar or point: its label and value, and the value as the page should print it. */
export interface Datum {
  label: string;
  value: number;
  text: string;
}

const LABEL_WIDTH = 360;
const BAR_WIDTH = 300;
const ROW = 26;
/** Longer labels are cut (with "…"); the whole label is in the bar's tooltip. */
const LABEL_CHARS = 52;

/**
 * Horizontal bars, one row per datum: the label on the left, a bar as long as the value
 * relative to the largest, and the value's text after it.
 */
export function barChart(title: string, data: Datum[]): Html {
  const max = Math.max(0, ...data.map((d) => d.value));
  const width = LABEL_WIDTH + BAR_WIDTH + 110;
  const height = Math.max(1, data.length) * ROW + 8;
  const rows = data.map((d, i) => {
    const y = 4 + i * ROW;
    const w = max > 0 ? Math.max(1, (d.value / max) * BAR_WIDTH) : 1;
    return html`
      <g class="bar" data-value="${d.value}">
        <title>${d.label}: ${d.text}</title>
        <text x="${LABEL_WIDTH - 8}" y="${y + 16}" text-anchor="end" class="label">${clip(
          d.label,
          LABEL_CHARS,
        )}</text>
        <rect x="${LABEL_WIDTH}" y="${y + 3}" width="${round(w)}" height="${ROW - 8}"></rect>
        <text x="${LABEL_WIDTH + round(w) + 6}" y="${y + 16}" class="value">${d.text}</text>
      </g>
    `;
  });
  return html`
    <svg class="chart bars" role="img" viewBox="0 0 ${width} ${height}" width="${width}"
      height="${height}"
      xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${rows}</svg>
  `;
}

const PLOT_W = 640;
const PLOT_H = 200;
const PAD_L = 90;
const PAD_T = 24;
const PAD_B = 56;

/**
 * A line through the data in order, a dot per point with its label below the axis and its
 * value above it where the value changes (and at the last point), so equal months do not
 * print over each other; every point's value is in its tooltip and its `data-value`. The y
 * axis starts at zero and ends at the largest value, both labelled.
 */
export function lineChart(
  title: string,
  data: Datum[],
  axis: (value: number) => string = String,
): Html {
  const max = Math.max(0, ...data.map((d) => d.value));
  const step = data.length > 1 ? PLOT_W / (data.length - 1) : 0;
  const x = (i: number) => round(PAD_L + i * step);
  const y = (v: number) => round(PAD_T + PLOT_H - (max > 0 ? (v / max) * PLOT_H : 0));
  const path = data.map((d, i) => `${i === 0 ? "M" : "L"}${x(i)},${y(d.value)}`).join(" ");
  const width = PAD_L + PLOT_W + 60;
  const height = PAD_T + PLOT_H + PAD_B;
  const points = data.map((d, i) =>
    html`<g class="point" data-value="${d.value}"><title>${d.label}: ${d.text}</title>
<circle cx="${x(i)}" cy="${y(d.value)}" r="4"></circle>
${
      i === data.length - 1 || d.value !== data[i - 1]?.value
        ? html`<text x="${x(i)}" y="${
          y(d.value) - 8
        }" text-anchor="middle" class="value">${d.text}</text>`
        : ""
    }
<text x="${x(i)}" y="${PAD_T + PLOT_H + 18}" text-anchor="middle" class="label">${d.label}</text>
</g>`
  );
  return html`
    <svg class="chart line" role="img" viewBox="0 0 ${width} ${height}" width="${width}"
      height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>
    <line class="axis" x1="${PAD_L}" y1="${PAD_T + PLOT_H}" x2="${PAD_L + PLOT_W}" y2="${PAD_T +
      PLOT_H}"></line>
    <text x="${PAD_L - 8}" y="${PAD_T + PLOT_H + 4}" text-anchor="end" class="axis-label">${axis(
      0,
    )}</text>
    <text x="${PAD_L - 8}" y="${PAD_T + 4}" text-anchor="end" class="axis-label">${axis(max)}</text>
    <path class="series" d="${path}" fill="none"></path>${points}</svg>
  `;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}
