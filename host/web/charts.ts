/**
 * Charts drawn on the server from the numbers, with every value printed as text (so a reader,
 * a screen reader and a test can read the values, not only see them). No script, no external
 * assets: the markup is part of the page, and `layout.ts` styles it.
 *
 * - {@link barChart}: one row per datum in HTML, so a long label wraps inside the chart's box
 *   instead of being cut; the bar itself is a small SVG.
 * - {@link lineChart}: an SVG line with a dot per point; a value is printed once where it
 *   changes, never twice for a run of equal points or beside an axis label that says it.
 * - {@link shareBar}: one share of a whole as a stacked bar with its numbers beside it.
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

/**
 * Horizontal bars, one row per datum: the whole label (wrapped when long), a bar as long as the
 * value relative to the largest, and the value's text. The figure's caption is `title`, for
 * screen readers (the page's heading above the chart says it to the eye).
 */
export function barChart(title: string, data: Datum[]): Html {
  const max = Math.max(0, ...data.map((d) => d.value));
  const rows = data.map((d) => {
    const width = max > 0 && d.value > 0 ? Math.max(0.5, round((d.value / max) * 100)) : 0;
    return html`
      <div class="bar" data-value="${d.value}">
        <span class="label">${d.label}</span>
        <svg class="track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true"
          focusable="false">
          <rect width="${width}" height="10"></rect>
        </svg>
        <span class="value">${d.text}</span>
      </div>
    `;
  });
  return html`
    <figure
      class="chart bars"><figcaption class="visually-hidden">${title}</figcaption>${rows}</figure>
  `;
}

const PLOT_W = 640;
const PLOT_H = 200;
const PAD_L = 70;
const PAD_R = 40;
const PAD_T = 44;
const PAD_B = 32;
/** A generous width of one character of the charts' 12px text, to keep value labels apart. */
const CHAR_PX = 8;
/** The height of a line of the charts' text, with a little air. */
const LINE = 17;

/**
 * A line through the data in order, a dot per point with its label below the axis. A point's
 * value is printed above it when it reads differently from the point before (so a run of equal
 * months is labelled once, at its start), except a value that reads as the axis's zero, which
 * the axis already prints; a label that would overlap one before it moves (`valueLabels`). Every
 * point's value is in its tooltip and its `data-value`. The y axis starts at zero; its top is
 * the largest value, which the point that has it prints (no separate label repeats it).
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
  const width = PAD_L + PLOT_W + PAD_R;
  const height = PAD_T + PLOT_H + PAD_B;
  const zero = axis(0);
  const values = valueLabels(data, zero, x, y);
  const points = data.map((d, i) => {
    const v = values.get(i);
    return html`<g class="point" data-value="${d.value}"><title>${d.label}: ${d.text}</title>
<circle cx="${x(i)}" cy="${y(d.value)}" r="4"></circle>
${
      v
        ? html`<text x="${x(i)}" y="${
          y(d.value) + v.dy
        }" text-anchor="${v.anchor}" class="value">${d.text}</text>`
        : ""
    }
<text x="${x(i)}" y="${PAD_T + PLOT_H + 20}" text-anchor="middle" class="label">${d.label}</text>
</g>`;
  });
  return html`
    <svg class="chart line" role="img" viewBox="0 0 ${width} ${height}" width="${width}"
      height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>
    <line class="axis" x1="${PAD_L}" y1="${PAD_T + PLOT_H}" x2="${PAD_L + PLOT_W}" y2="${PAD_T +
      PLOT_H}"></line>
    <text x="${PAD_L - 10}" y="${PAD_T + PLOT_H +
      4}" text-anchor="end" class="axis-label">${zero}</text>
    <path class="series" d="${path}" fill="none"></path>${points}</svg>
  `;
}

/**
 * Which points print their value (by index) and where: anchored so the first and last stay
 * inside the box, just above the dot, or where that would overlap a label placed before it, a
 * line higher, below the dot, or higher still; a value with no free place inside the plot is
 * left to its tooltip.
 */
function valueLabels(
  data: Datum[],
  zero: string,
  x: (i: number) => number,
  y: (v: number) => number,
): Map<number, { anchor: string; dy: number }> {
  const out = new Map<number, { anchor: string; dy: number }>();
  const placed: { left: number; right: number; base: number }[] = [];
  data.forEach((d, i) => {
    if (d.text === zero || d.text === data[i - 1]?.text) return;
    const anchor = data.length > 1 && i === 0
      ? "start"
      : data.length > 1 && i === data.length - 1
      ? "end"
      : "middle";
    const w = d.text.length * CHAR_PX;
    const left = anchor === "start" ? x(i) : anchor === "end" ? x(i) - w : x(i) - w / 2;
    const right = left + w;
    const free = (base: number) =>
      base >= LINE && base <= PAD_T + PLOT_H - 4 &&
      !placed.some((p) => p.left < right && left < p.right && Math.abs(p.base - base) < LINE);
    const dy = [-10, -10 - LINE, 10 + LINE, -10 - 2 * LINE, 10 + 2 * LINE].find((dy) =>
      free(y(d.value) + dy)
    );
    if (dy === undefined) return;
    out.set(i, { anchor, dy });
    placed.push({ left, right, base: y(d.value) + dy });
  });
  return out;
}

/**
 * One share (0..1) of a whole as a bar split in two, `part` then `rest`, with `text` (the
 * numbers) printed beside it and given as the bar's text alternative too.
 */
export function shareBar(
  share: number,
  names: { part: string; rest: string },
  text: string,
): Html {
  const part = round(Math.min(1, Math.max(0, share)) * 100);
  return html`
    <div class="share">
      <svg class="share-bar" viewBox="0 0 100 10" preserveAspectRatio="none"
        role="img" aria-label="${text}">
        <title>${text}</title>
        <rect class="part" width="${part}"
          height="10"></rect>
        <rect class="rest" x="${part}" width="${round(100 - part)}"
          height="10"></rect>
      </svg>
      <span class="legend"
        aria-hidden="true"><span class="key part"></span>${names
          .part}<span class="key rest"></span>${names.rest}</span>
    </div>
  `;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
