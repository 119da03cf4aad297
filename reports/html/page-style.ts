/**
 * The stylesheet of every HTML page faultline writes: readable on a laptop screen, in light and
 * dark mode (following the reader's setting) and in print (always light, one column).
 */
export const pageStyle = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --grid: #e4e8ec;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5;
  --fault: #c76a00;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --soft: #161b22; --grid: #262c34;
    --pass: #3fb950; --pass-bg: #102a1b; --fail: #ff7b72; --fail-bg: #3a1417; --warn: #e3b341; --warn-bg: #2e2410;
    --fault: #f0a04b;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0 auto; max-width: 1200px; padding: 24px 28px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 26px; margin: 2px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
h3 { font-size: 14px; margin: 0 0 4px; font-weight: 600; }
p { margin: 6px 0; }
a { color: inherit; }
code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.kicker { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; margin: 0; }
.description { color: var(--muted); font-size: 15px; margin: 0 0 12px; }
.muted { color: var(--muted); }
.verdict { display: inline-block; font-weight: 700; font-size: 15px; padding: 6px 12px; border-radius: 6px; margin: 6px 0 10px; }
.verdict.pass, .badge.pass { color: var(--pass); background: var(--pass-bg); }
.verdict.fail, .badge.fail { color: var(--fail); background: var(--fail-bg); }
.verdict.incomplete, .badge.incomplete { color: var(--warn); background: var(--warn-bg); }
.banner { border: 1px solid var(--warn); background: var(--warn-bg); color: var(--fg); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 10px; letter-spacing: .03em; vertical-align: 2px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 6px 18px; margin: 6px 0 0; }
.facts div { min-width: 0; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
nav { margin-top: 14px; font-size: 13px; }
nav a { margin-right: 14px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); font-size: 12.5px; }
td.num, th.num { text-align: right; white-space: nowrap; }
.matrix td:nth-child(n+4) { white-space: nowrap; }
.matrix .value { margin-left: 6px; }
.matrix .window { display: block; color: var(--muted); font-size: 12px; }
.table-scroll { overflow-x: auto; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 18px 24px; margin-top: 12px; }
.chart { margin: 0; min-width: 0; break-inside: avoid; }
.chart.wide { grid-column: 1 / -1; }
.chart figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.chart .plot { width: 100%; min-height: 120px; }
.chart svg { max-width: 100%; height: auto; }
.chart svg .role-axis text, .chart svg .role-legend text, .chart svg .role-title text { fill: var(--fg); }
.chart svg .role-axis-grid line { stroke: var(--grid); }
.chart svg .role-axis-domain line, .chart svg .role-axis-tick line { stroke: var(--muted); }
.chart svg .fault_label_marks text { fill: var(--fault); }
.design { break-before: auto; }
.services { margin: 4px 0; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.regression { color: var(--fail); font-weight: 700; }
ul.examples { margin: 2px 0 6px; padding-left: 18px; }
ul.examples code { font-size: 12px; overflow-wrap: anywhere; }
.improvement { color: var(--pass); }
details summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { .charts { grid-template-columns: minmax(0, 1fr); } body { padding: 16px; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11.5px; }
  nav { display: none; }
  .charts { grid-template-columns: minmax(0, 1fr); }
  h2 { break-after: avoid; }
  table, .chart, .banner { break-inside: avoid; }
  details > *:not(summary) { display: block; }
  a { text-decoration: none; }
}
`;
