/**
 * The schedules page: each scheduled task (docs/schedules.md) with its next run and its last
 * runs: when, why (schedule, catch-up, manual), the exit code, the summary and the cost. A
 * never-change or worm alarm (exit 5) is marked loudly: a banner above the table and the row
 * in red. The data is `scheduleStatuses` (host/schedule/status.ts), what `schedule list`
 * prints; the page only lays it out.
 *
 * @module
 */

import type { ScheduleStatus } from "../schedule/status.ts";
import type { RunRecord } from "../schedule/task_runs.ts";
import { type Html, html } from "./html.ts";

/** The schedules file and its schedules. */
export interface SchedulesReport {
  file: string;
  schedules: ScheduleStatus[];
}

export function schedulesBody(r: SchedulesReport): Html {
  const where = html`<p class="note">Schedules in <code>${r.file}</code>; <code>permafrost
    daemon</code> runs them, <code>permafrost schedule list</code> shows the same.</p>`;
  if (r.schedules.length === 0) {
    return html`${where}<p id="no-schedules">No schedule yet: add one with
      <code>permafrost schedule add NAME --every daily -- backup ...</code></p>`;
  }
  const alarms = r.schedules.flatMap((s) =>
    s.runs.filter((run) => run.warning).slice(-1).map((run) =>
      html`<p class="error alarm" data-schedule="${s.name}"><strong>WARNING</strong>: schedule
        <code>${s.name}</code>, run of ${run.start}: ${run.warning}</p>`
    )
  );
  const rows = r.schedules.map((s) => {
    const last = s.lastRun;
    const alarm = s.runs.some((run) => run.warning);
    return html`
      <tr data-schedule="${s.name}" data-exit="${last?.exitCode ?? ""}" class="${alarm
        ? "error"
        : ""}">
        <td><code>${s.name}</code></td>
        <td class="nowrap">${s.every}</td>
        <td class="paths"><code>permafrost ${s.command}</code><br><span class="note">${s.role}
          role</span></td>
        <td class="date" data-at="${s.next}">${s.next}</td>
        ${last ? lastRun(last) : html`<td colspan="3">no run yet</td>`}
      </tr>
    `;
  });
  return html`${where}${alarms}
    <table id="schedules"><tr><th>name</th><th>every</th><th>command</th><th>next run</th>
      <th>last run</th><th class="num">exit</th><th>result</th></tr>
    ${rows}</table>`;
}

function lastRun(run: RunRecord): Html {
  const exit = run.exitCode ?? run.state;
  const cost = run.costUsd === undefined ? "" : html`<br>cost $${run.costUsd}`;
  const warning = run.warning ? html`<br><strong>WARNING</strong>: ${run.warning}` : "";
  return html`
    <td class="date" data-at="${run.start}">${run.start}<br><span class="note">${run
      .trigger}</span></td>
    <td class="num exit">${exit}</td>
    <td class="paths result">${run.summary ?? ""}${cost}${warning}</td>
  `;
}
