/**
 * The timeline chart of `kiln runs show --html`: one lane per build, steps
 * as bars on the top row, provisioners, post-processors and compensation on
 * the row below, resource and retry/failure markers under them, drives as
 * shaded bands. Plain SVG: it needs no script, and every bar and marker
 * carries a <title> the browser shows on hover.
 */
import type { Timeline, TimelineBar, TimelineLane, TimelineMarker } from "../runtime/timeline.ts";
import { shortDuration } from "../runtime/duration.ts";
import { esc } from "./html_escape.ts";
import { TimeScale } from "./timeline_scale.ts";

const WIDTH = 1200;
const GUTTER = 190;
const RIGHT = 16;
const AXIS_H = 46;
const LANE_H = 138;
/** The lane's title line (build, type, status) above its rows. */
const TITLE_Y = 20;
const STEP_Y = 32;
const STEP_H = 26;
const SUB_Y = 64;
const SUB_H = 18;
const MARK_Y = 96;
const EVENT_Y = 118;
/** Markers drawn per lane at most. */
const MAX_MARKERS = 2000;

/** The chart as an inline <svg>. */
export function timelineSvg(t: Timeline): string {
  const scale = new TimeScale(t.drives, t.start, t.end, GUTTER, WIDTH - RIGHT);
  const lanes = t.lanes.length === 0 ? [] : t.lanes;
  // Room below the last lane for the "killed" labels.
  const height = AXIS_H + Math.max(lanes.length, 1) * LANE_H + 20;
  const out: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" ` +
    `width="${WIDTH}" height="${height}" role="img" aria-label="Timeline of run ${esc(t.runId)}">`,
    `<defs><pattern id="cut" width="8" height="8" patternUnits="userSpaceOnUse" ` +
    `patternTransform="rotate(45)"><rect width="8" height="8" fill="#f4b740"/>` +
    `<rect width="4" height="8" fill="#e09a12"/></pattern></defs>`,
  ];
  out.push(...drives(t, scale, height));
  out.push(...axis(t, scale, height));
  lanes.forEach((lane, i) => out.push(...laneSvg(lane, AXIS_H + i * LANE_H, scale, t)));
  if (lanes.length === 0) {
    out.push(`<text x="${GUTTER}" y="${AXIS_H + 40}" class="empty">No build started.</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}

function drives(t: Timeline, scale: TimeScale, height: number): string[] {
  const out: string[] = [];
  let resumes = 0;
  t.drives.forEach((d, i) => {
    const x0 = scale.x(d.start);
    const x1 = Math.max(scale.x(d.end), x0 + 2);
    const name = d.kind === "build"
      ? "build"
      : d.kind === "resume"
      ? `resume ${++resumes}`
      : "cleanup";
    out.push(
      `<rect class="drive drive${i % 2}" x="${x0.toFixed(1)}" y="${AXIS_H - 18}" ` +
        `width="${(x1 - x0).toFixed(1)}" height="${height - AXIS_H + 18}"><title>${
          esc(
            `attempt ${i + 1}: ${name}, ${shortDuration(d.end - d.start)}` +
              (d.cut ? " — its process died before it finished" : ""),
          )
        }</title></rect>`,
      `<text class="drive-label" x="${(x0 + 4).toFixed(1)}" y="${AXIS_H - 6}">${
        esc(`#${i + 1} ${name}`)
      }</text>`,
    );
    if (d.cut) {
      out.push(
        `<line class="cut" x1="${x1.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${AXIS_H - 18}" ` +
          `y2="${height}"><title>${esc(`process of attempt ${i + 1} died here`)}</title></line>`,
        `<text class="cut-label" x="${(x1 - 3).toFixed(1)}" y="${height - 5}" ` +
          `text-anchor="end">killed</text>`,
      );
    }
  });
  for (const p of scale.pieces.filter((p) => p.gap)) {
    const mid = (p.x0 + p.x1) / 2;
    out.push(
      `<rect class="gap" x="${p.x0.toFixed(1)}" y="${AXIS_H - 18}" width="${
        (p.x1 - p.x0).toFixed(1)
      }" height="${height - AXIS_H + 18}"><title>${
        esc(`${shortDuration(p.to - p.from)} with no process driving the run`)
      }</title></rect>`,
      `<text class="gap-label" x="${mid.toFixed(1)}" y="${AXIS_H - 22}" text-anchor="middle">${
        esc(`⋯ ${shortDuration(p.to - p.from)} ⋯`)
      }</text>`,
    );
  }
  return out;
}

function axis(t: Timeline, scale: TimeScale, height: number): string[] {
  const out = [
    `<line class="axis" x1="${GUTTER}" x2="${WIDTH - RIGHT}" y1="${AXIS_H}" y2="${AXIS_H}"/>`,
  ];
  const gaps = scale.pieces.filter((p) => p.gap);
  for (const tick of scale.ticks(t.start, 10)) {
    const at = scale.x(tick);
    // A tick label next to a break would collide with the break's own label.
    if (gaps.some((g) => at > g.x0 - 40 && at < g.x1 + 40)) continue;
    const x = at.toFixed(1);
    out.push(
      `<line class="grid" x1="${x}" x2="${x}" y1="${AXIS_H}" y2="${height}"/>`,
      `<text class="tick" x="${x}" y="${AXIS_H - 22}" text-anchor="middle">${
        esc(tick === t.start ? "0" : `+${shortDuration(tick - t.start)}`)
      }</text>`,
    );
  }
  return out;
}

function laneSvg(lane: TimelineLane, y: number, scale: TimeScale, t: Timeline): string[] {
  const out = [
    `<g class="lane">`,
    `<line class="lane-sep" x1="0" x2="${WIDTH}" y1="${y + LANE_H}" y2="${y + LANE_H}"/>`,
    // One line, so a long build name never runs into the rows' labels.
    `<text x="12" y="${y + TITLE_Y}"><tspan class="lane-name">${
      esc(clip(lane.build, 80))
    }</tspan>` +
    `<tspan class="lane-type" dx="10">${esc(clip(lane.type ?? "", 40))}</tspan>` +
    `<tspan class="lane-status ls-${statusClass(lane.status)}" dx="10">● ${
      esc(lane.status)
    }</tspan><title>${esc(`build ${lane.build}: ${lane.status}`)}</title></text>`,
    `<text class="row-label" x="${GUTTER - 8}" y="${
      y + STEP_Y + 17
    }" text-anchor="end">steps</text>`,
    `<text class="row-label" x="${GUTTER - 8}" y="${
      y + SUB_Y + 13
    }" text-anchor="end">provision · post</text>`,
    `<text class="row-label" x="${GUTTER - 8}" y="${
      y + MARK_Y + 5
    }" text-anchor="end">resources</text>`,
    `<text class="row-label" x="${GUTTER - 8}" y="${
      y + EVENT_Y + 5
    }" text-anchor="end">retries · failures</text>`,
  ];
  let steps = 0;
  for (const bar of lane.bars) {
    // Neighbouring steps of one colour alternate in shade, so each stays visible.
    const alt = bar.kind === "step" && steps++ % 2 === 1 && bar.status === "succeeded";
    out.push(barSvg(bar, y, scale, t, alt));
  }
  // A log may hold a hundred thousand resources: past a point markers only
  // pile up on each other, so the chart draws the first ones and says so.
  for (const m of lane.markers.slice(0, MAX_MARKERS)) out.push(markerSvg(m, y, scale, t));
  if (lane.markers.length > MAX_MARKERS) {
    out.push(
      `<text class="row-label" x="${WIDTH - RIGHT}" y="${y + TITLE_Y}" text-anchor="end">${
        esc(`first ${MAX_MARKERS} of ${lane.markers.length} markers drawn`)
      }</text>`,
    );
  }
  out.push("</g>");
  return out;
}

function barSvg(
  bar: TimelineBar,
  y: number,
  scale: TimeScale,
  t: Timeline,
  alt: boolean,
): string {
  const sub = bar.kind !== "step";
  const top = y + (sub ? SUB_Y : STEP_Y);
  const h = sub ? SUB_H : STEP_H;
  const x0 = scale.x(bar.start);
  const w = Math.max(scale.x(bar.end) - x0, 3);
  const took = shortDuration(bar.end - bar.start);
  const name = (bar.attempt > 1 ? `↻${bar.attempt} ` : "") + bar.label;
  const tip = `${kindName(bar.kind)} ${bar.label}: ${bar.status}, ${took}` +
    (bar.attempt > 1 ? `, attempt ${bar.attempt}` : "") +
    `, ${at(t, bar.start)} → ${at(t, bar.end)}, run attempt ${bar.drive + 1}` +
    (bar.error ? `\n${bar.error}` : "");
  const cls = `bar ${sub ? "sub" : "step"} ${bar.kind} st-${statusClass(bar.status)}` +
    (bar.attempt > 1 ? " retried" : "") + (alt ? " alt" : "");
  const parts = [
    `<g class="${cls}"><title>${esc(tip)}</title>`,
    `<rect x="${x0.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${h}" rx="3"/>`,
  ];
  // Bold sans at 12 / 11 px: a conservative width per character.
  const charW = sub ? 6.8 : 7.6;
  const full = `${name} · ${took}`;
  // Narrow bars fall back to the last part of the id ("aws.launch" → "launch").
  const short = (bar.attempt > 1 ? `↻${bar.attempt} ` : "") + bar.label.split(".").at(-1)!;
  const text = [full, name, short].find((s) => fits(s, w, charW));
  if (text) {
    parts.push(
      `<text class="bar-text" x="${(x0 + 5).toFixed(1)}" y="${top + (sub ? 13 : 17)}">${
        esc(text)
      }</text>`,
    );
  }
  parts.push("</g>");
  return parts.join("");
}

const MARKER_SHAPES: Record<TimelineMarker["kind"], (x: number, y: number) => string> = {
  created: (x, y) => `<path d="M${x} ${y - 6}L${x + 6} ${y + 5}H${x - 6}Z"/>`,
  deleted: (x, y) => `<path d="M${x - 6} ${y - 5}H${x + 6}L${x} ${y + 6}Z"/>`,
  released: (x, y) => `<path d="M${x} ${y - 6}L${x + 6} ${y}L${x} ${y + 6}L${x - 6} ${y}Z"/>`,
  retry: (x, y) => `<circle cx="${x}" cy="${y}" r="6"/>`,
  failure: (x, y) =>
    `<path d="M${x - 5} ${y - 5}L${x + 5} ${y + 5}M${x + 5} ${y - 5}L${x - 5} ${y + 5}"/>`,
};

function markerSvg(m: TimelineMarker, y: number, scale: TimeScale, t: Timeline): string {
  const x = Number(scale.x(m.at).toFixed(1));
  const tip = `${m.kind}: ${m.label} at ${at(t, m.at)}${m.detail ? `\n${m.detail}` : ""}`;
  const row = m.kind === "retry" || m.kind === "failure" ? EVENT_Y : MARK_Y;
  return `<g class="mark mk-${m.kind}"><title>${esc(tip)}</title>${
    MARKER_SHAPES[m.kind](x, y + row)
  }</g>`;
}

function kindName(kind: TimelineBar["kind"]): string {
  return kind === "step" ? "step" : kind;
}

/** A time as an offset from the run's start, the way the axis reads. */
function at(t: Timeline, ms: number): string {
  return `+${shortDuration(ms - t.start)}`;
}

function fits(text: string, width: number, charW: number): boolean {
  return text.length * charW + 10 <= width;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** A status as a CSS class suffix (statuses come from the log: only known words pass). */
export function statusClass(status: string): string {
  return ["succeeded", "failed", "running", "interrupted", "compensated", "cancelled", "pending"]
      .includes(status)
    ? status
    : "other";
}
