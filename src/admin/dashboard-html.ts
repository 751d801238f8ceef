/**
 * The dashboard: one self-contained page (inline CSS and script, no external assets) under a
 * strict Content-Security-Policy whose nonce changes on every response. The page fills itself
 * from `dashboard.json`; see `dashboard-script.ts`.
 */
import { randomBytes } from 'node:crypto'
import { DASHBOARD_SCRIPT } from './dashboard-script.js'
import { html } from './http.js'

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2430; --muted: #667085; --line: #e4e7ec;
  --accent: #2f5bea; --ok: #12805c; --warn: #b54708; --bad: #c0262d; --info: #175cd3; --idle: #98a2b3; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1217; --card: #171b22; --fg: #e6e9ef; --muted: #98a2b3;
  --line: #262c36; --accent: #6d8cff; --ok: #3ccb8f; --warn: #f5a524; --bad: #ff6b6b; --info: #6aa9ff; } }
* { box-sizing: border-box; }
body { --gutter: max(28px, calc((100% - 1180px) / 2 + 28px)); }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  padding: 18px var(--gutter); background: var(--card); border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 18px; font-weight: 650; }
h1 small { display: block; color: var(--muted); font-size: 12px; font-weight: 400; }
h2 { margin: 0 0 12px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; display: grid; gap: 28px; }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: 8px 16px; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: #fff; }
button.secondary { background: transparent; color: var(--accent); }
button:disabled { opacity: .55; cursor: progress; }
.actions { display: flex; gap: 10px; }
#notice { margin: 0; padding: 10px var(--gutter); font-size: 13px; border-bottom: 1px solid var(--line); }
#notice:empty { display: none; }
#notice.error { color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .n { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; display: flex; align-items: center; gap: 6px; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--idle); }
.s-completed { background: var(--ok); } .s-failed { background: var(--bad); } .s-processing { background: var(--info); }
.s-queued { background: var(--accent); } .s-paused { background: var(--warn); }
.meta { margin: 12px 0 0; color: var(--muted); display: flex; gap: 22px; flex-wrap: wrap; }
.meta strong { color: var(--fg); font-weight: 600; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
tbody tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 18px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.err { color: var(--bad); white-space: pre-wrap; word-break: break-word; max-width: 560px; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.pill.ok { color: var(--ok); } .pill.bad { color: var(--bad); } .pill.run { color: var(--info); } .pill.warn { color: var(--warn); }
`

/** Escapes text for an HTML attribute value or text node. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(mount: string, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Subscription scheduler</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-base="${escapeHtml(mount)}">
<header>
  <h1>Subscription scheduler<small>pg-subscription-scheduler admin</small></h1>
  <div class="actions">
    <button id="run-now" type="button">Run now</button>
    <button id="retry-failed" type="button" class="secondary">Retry failed</button>
  </div>
</header>
<p id="notice" role="status" aria-live="polite"></p>
<main>
  <section aria-labelledby="h-counts">
    <h2 id="h-counts">Subscriptions by status</h2>
    <div id="counts" class="cards"></div>
    <p class="meta">
      <span>Next sweep <strong id="next-fire">…</strong></span>
      <span>Due now <strong id="due">…</strong></span>
      <span>Queue <strong id="queue">…</strong></span>
      <span>Updated <strong id="updated">…</strong></span>
    </p>
  </section>
  <section aria-labelledby="h-runs">
    <h2 id="h-runs">Recent runs</h2>
    <table id="runs">
      <thead><tr><th>Started</th><th>Trigger</th><th>State</th><th class="num">Duration</th><th class="num">Processed</th>
        <th class="num">Succeeded</th><th class="num">Failed</th><th class="num">Retried</th><th class="num">Skipped</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section aria-labelledby="h-failures">
    <h2 id="h-failures">Recent failures</h2>
    <table id="failures">
      <thead><tr><th>When</th><th>Subscription</th><th class="num">Attempt</th><th>Outcome</th><th>Error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script nonce="${nonce}">${DASHBOARD_SCRIPT}</script>
</body>
</html>
`
}

/** The page, with a fresh nonce and the headers that lock it down. */
export function dashboardPage(mount: string): Response {
  const nonce = randomBytes(16).toString('base64')
  return html(page(mount, nonce), {
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  })
}
