/**
 * The admin pages' CSS, inlined under each response's nonce. BASE_STYLE is shared by the sign-in
 * form and the dashboard; DASHBOARD_STYLE adds the views. Everything fits a 400 px viewport:
 * tables scroll inside their own box, never the page.
 */

export const BASE_STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2430; --muted: #667085; --line: #e4e7ec;
  --accent: #2f5bea; --ok: #12805c; --warn: #b54708; --bad: #c0262d; --info: #175cd3; --idle: #98a2b3; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1217; --card: #171b22; --fg: #e6e9ef; --muted: #98a2b3;
  --line: #262c36; --accent: #6d8cff; --ok: #3ccb8f; --warn: #f5a524; --bad: #ff6b6b; --info: #6aa9ff; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { margin: 0; font-size: 18px; font-weight: 650; }
h1 small { display: block; color: var(--muted); font-size: 12px; font-weight: 400; }
a { color: var(--accent); }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: 8px 16px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { border-color: var(--bad); background: var(--bad); }
button:disabled { opacity: .5; cursor: not-allowed; }
button[aria-busy="true"] { cursor: progress; }
input, select { font: inherit; padding: 7px 10px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); color: var(--fg); min-width: 0; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.error { color: var(--bad); }
`

export const SIGN_IN_STYLE = `
main.sign-in { max-width: 380px; margin: 12vh auto 0; padding: 0 16px; }
main.sign-in form { display: grid; gap: 10px; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 22px; }
main.sign-in h1 { margin-bottom: 8px; }
main.sign-in label { font-weight: 600; font-size: 13px; }
main.sign-in p { margin: 0; }
.hint { color: var(--muted); font-size: 12px; }
`

export const DASHBOARD_STYLE = `
body { --gutter: max(16px, calc((100% - 1180px) / 2 + 28px)); }
header { display: flex; align-items: center; justify-content: space-between; gap: 12px 16px; flex-wrap: wrap;
  padding: 16px var(--gutter); background: var(--card); border-bottom: 1px solid var(--line); }
h2 { margin: 0 0 12px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
h2[tabindex="-1"]:focus { outline: none; }
h2 .mono { text-transform: none; letter-spacing: 0; color: var(--fg); word-break: break-all; }
main { max-width: 1180px; margin: 0 auto; padding: 24px var(--pad, 28px) 48px; display: grid; gap: 28px; }
main > section, main > div { min-width: 0; }
@media (max-width: 600px) { main { --pad: 12px; padding-top: 16px; gap: 22px; } header { padding: 12px; } button { padding: 7px 12px; } }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
#search { display: flex; gap: 6px; flex: 1 1 260px; max-width: 420px; }
#search input { flex: 1; }
#sub-note-row { margin: 10px 0 0; }
#sub-note { flex: 1 1 260px; }
#notice, #confirm { margin: 0; padding: 10px var(--gutter); font-size: 13px; border-bottom: 1px solid var(--line); }
#notice:empty { display: none; }
#stale, #calls-paused { margin: 0; padding: 10px var(--gutter); font-size: 13px; border-bottom: 1px solid var(--line); color: var(--warn); font-weight: 600; }
#notice.error { color: var(--bad); }
[aria-invalid="true"] { border-color: var(--bad); }
body.stale main { opacity: .6; }
#confirm { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; background: var(--card); }
#confirm-note { flex: 0 1 22em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.card .n { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; display: flex; align-items: center; gap: 6px; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--idle); flex: none; }
.s-completed { background: var(--ok); } .s-failed { background: var(--bad); } .s-processing { background: var(--info); }
.s-queued { background: var(--accent); } .s-paused { background: var(--warn); }
.meta { margin: 12px 0 0; color: var(--muted); display: flex; gap: 6px 22px; flex-wrap: wrap; }
.meta strong { color: var(--fg); font-weight: 600; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 10px; background: var(--card); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
td { white-space: nowrap; }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 18px; white-space: normal; }
.err { color: var(--bad); white-space: pre-wrap; word-break: break-word; min-width: 200px; max-width: 560px; }
.err summary { cursor: pointer; list-style: none; }
.err summary::-webkit-details-marker { display: none; }
.err .more { color: var(--muted); }
.err details[open] .more { display: none; }
.due { display: block; color: var(--warn); font-size: 12px; white-space: normal; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.pill.ok { color: var(--ok); } .pill.bad { color: var(--bad); } .pill.run { color: var(--info); } .pill.warn { color: var(--warn); } .pill.idle { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: 6px; }
figure svg { display: block; width: 100%; height: auto; }
svg text { fill: var(--muted); font-size: 11px; }
svg .axis { stroke: var(--line); }
svg .bar-processed { fill: var(--accent); } svg .bar-failed { fill: var(--bad); }
svg .line-p50 { stroke: var(--info); fill: none; stroke-width: 1.5; } svg .line-p95 { stroke: var(--warn); fill: none; stroke-width: 1.5; }
svg .pt-p50 { fill: var(--info); } svg .pt-p95 { fill: var(--warn); }
svg .empty-state { font-size: 12px; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 6px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.k-processed { background: var(--accent); } .k-failed { background: var(--bad); } .k-p50 { background: var(--info); } .k-p95 { background: var(--warn); }
dl.fields { display: grid; grid-template-columns: minmax(120px, max-content) minmax(0, 1fr); gap: 6px 18px; margin: 0;
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
dl.fields dt { color: var(--muted); font-size: 12.5px; }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 480px) { dl.fields { grid-template-columns: minmax(0, 1fr); } dl.fields dd { margin-bottom: 6px; } }
pre.response { margin: 0; max-height: 220px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.back { margin: 0 0 10px; }
.pager { margin: 10px 0 0; display: flex; gap: 18px; }
#sub-schedule { display: grid; gap: 10px; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px; }
#sub-upcoming { margin: 0; padding-left: 18px; }
#sub-upcoming li.empty { list-style: none; margin-left: -18px; color: var(--muted); }
td.detail { white-space: normal; min-width: 220px; }
td.detail .note { color: var(--muted); margin-top: 2px; white-space: pre-wrap; }
small.serving { color: var(--muted); margin-left: 4px; }
small.calls { display: block; color: var(--muted); margin-top: 2px; white-space: nowrap; }
/* A read-only sign-in: no action that changes state (the API refuses them too). */
body[data-access="read"] :is(#run-now, #retry-failed, #pause-calls, #resume-calls, #sub-run, #sub-pause, #sub-resume, #sub-retry, #sub-skip, #sub-pause-until, #sub-backfill, #sub-note-row),
body:not([data-access="read"]) #read-only { display: none; }
#read-only { color: var(--muted); align-self: center; }
`
