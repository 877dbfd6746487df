/**
 * The stylesheet of the run timeline page, inlined so the file opens from
 * file:// anywhere. Status colours are shared by bars, pills, dots and the
 * legend, so one colour means one thing everywhere on the page.
 */

/** The page's CSS. */
export const PAGE_CSS = `
:root { --ok: #2f9e5b; --bad: #d64545; --cut: #e09a12; --run: #3b7ddd; --undo: #8a7fb8;
  --ink: #1d2433; --mute: #667085; --line: #e4e7ec; --bg: #f7f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 28px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
h1 { font-size: 22px; margin: 0 0 12px; display: flex; align-items: center; gap: 12px;
  flex-wrap: wrap; }
h2 { font-size: 17px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--mute); }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 20px; margin-bottom: 16px; }
dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 24px;
  margin: 0; }
.fact dt { color: var(--mute); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.fact dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.pill { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 13px;
  font-weight: 600; color: #fff; background: var(--mute); }
.warn { color: var(--bad); font-weight: 600; margin: 12px 0 0; }
.failure { border-color: #f3b4b4; background: #fff6f6; }
.failure h2 { color: var(--bad); }
.failure pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0 10px;
  background: #fff; border: 1px solid #f3d0d0; padding: 8px 10px; border-radius: 6px; }
.failure p { margin: 0; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; padding: 10px 20px; }
.key { display: inline-flex; align-items: center; gap: 6px; color: var(--mute); font-size: 13px; }
.sw { display: inline-block; width: 14px; height: 14px; border-radius: 3px; }
.sw.mk { width: auto; height: auto; background: none; }
.hint { margin-left: auto; color: var(--mute); font-size: 12px; }
.chart-wrap { overflow-x: auto; padding: 8px; }
.chart { display: block; width: 100%; min-width: 900px; height: auto; font-family: system-ui,
  "DejaVu Sans", sans-serif; }
.chart .drive0 { fill: #f4f6fb; }
.chart .drive1 { fill: #eef3ec; }
.chart .drive-label { font-size: 12px; fill: var(--mute); font-weight: 600; }
.chart .gap { fill: url(#cut); opacity: .18; }
.chart .gap-label { font-size: 11px; fill: var(--mute); }
.chart .cut { stroke: var(--bad); stroke-width: 2; stroke-dasharray: 5 3; }
.chart .cut-label { font-size: 11px; fill: var(--bad); font-weight: 700; }
.chart .axis { stroke: #98a2b3; }
.chart .grid { stroke: #d0d5dd; stroke-dasharray: 2 4; }
.chart .tick { font-size: 11px; fill: var(--mute); }
.chart .lane-sep { stroke: var(--line); }
.chart .lane-name { font-size: 15px; font-weight: 700; fill: var(--ink); }
.chart .lane-type { font-size: 12px; fill: var(--mute); }
.chart .lane-status { font-size: 13px; font-weight: 700; }
.chart .ls-succeeded { fill: var(--ok); } .chart .ls-failed { fill: var(--bad); }
.chart .ls-running { fill: var(--run); } .chart .ls-interrupted { fill: var(--cut); }
.chart .ls-compensated { fill: var(--undo); }
.chart .ls-cancelled, .chart .ls-pending, .chart .ls-other { fill: var(--mute); }
.chart .bar.alt rect { filter: brightness(.86); }
.chart .row-label { font-size: 10px; fill: #98a2b3; text-transform: uppercase; }
.chart .bar rect { stroke: rgba(0,0,0,.18); stroke-width: 1; }
.chart .bar.sub rect { opacity: .78; }
.chart .bar.retried rect { stroke: var(--cut); stroke-width: 2; stroke-dasharray: 4 2; }
.chart .bar:hover rect { stroke: var(--ink); stroke-width: 2; }
.chart .bar-text { font-size: 12px; fill: #fff; font-weight: 600; pointer-events: none; }
.chart .bar.sub .bar-text { font-size: 11px; }
.chart .bar.post-processor rect { fill: #1f9aa8; }
.chart .bar.post-processor.st-failed rect { fill: var(--bad); }
.chart .bar.compensation rect { fill: var(--undo); }
.chart .st-succeeded rect, .chart rect.st-succeeded { fill: var(--ok); }
.chart .st-failed rect, .chart rect.st-failed { fill: var(--bad); }
.chart .st-interrupted rect, .chart rect.st-interrupted { fill: url(#cut); }
.chart .st-interrupted .bar-text { fill: #3b2a00; }
.chart .st-running rect, .chart rect.st-running { fill: var(--run); }
.chart .st-compensated rect, .chart rect.st-compensated { fill: var(--undo); }
.chart .st-cancelled rect, .chart rect.st-cancelled, .chart rect.st-pending,
.chart rect.st-other { fill: #98a2b3; }
.chart .mark { stroke-width: 1.5; }
.chart .mk-created { fill: var(--ok); stroke: #1b6b3c; }
.chart .mk-deleted { fill: #98a2b3; stroke: #475467; }
.chart .mk-released { fill: var(--cut); stroke: #8a5a00; }
.chart .mk-retry { fill: #fff; stroke: var(--cut); stroke-width: 3; }
.chart .mk-failure { stroke: var(--bad); stroke-width: 3; fill: none; }
.chart .empty { fill: var(--mute); font-size: 14px; }
.st-succeeded { background: var(--ok); }
.st-failed { background: var(--bad); }
.st-interrupted { background: var(--cut); }
.st-running { background: var(--run); }
.st-compensated { background: var(--undo); }
.st-cancelled, .st-pending, .st-other { background: #98a2b3; }
.mk.created { color: var(--ok); } .mk.deleted { color: #667085; } .mk.released { color: var(--cut); }
.mk.retry { color: var(--cut); } .mk.failure { color: var(--bad); }
.build h2 { display: flex; align-items: center; gap: 10px; }
.build .type { color: var(--mute); font-weight: 400; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; color: var(--mute); font-weight: 600; border-bottom: 1px solid var(--line);
  padding: 4px 8px; }
td { padding: 4px 8px; border-bottom: 1px solid #f0f2f5; vertical-align: top; }
tr.nested td:nth-child(2) { padding-left: 26px; color: #344054; }
td.err { color: var(--bad); white-space: pre-wrap; overflow-wrap: anywhere; max-width: 480px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
.dot.mk-live { background: var(--run); } .dot.mk-deleted { background: #98a2b3; }
.dot.mk-released { background: var(--cut); }
.retry { color: var(--cut); font-weight: 600; font-size: 12px; }
footer { color: var(--mute); font-size: 12px; margin-top: 8px; }
`;
