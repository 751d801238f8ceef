/**
 * The dashboard: one self-contained page (inline CSS and script, no external assets) under a
 * strict Content-Security-Policy whose nonce changes on every response. The markup holds the
 * four views' skeletons; the script (dashboard-script.ts) fills the one the address names.
 */
import { randomBytes } from 'node:crypto'
import { RUN_TRIGGERS, SUBSCRIPTION_STATUSES } from '../db/names.js'
import type { SchedulerStatus } from '../records/status.js'
import { DASHBOARD_SCRIPT } from './dashboard-script.js'
import { BASE_STYLE, DASHBOARD_STYLE } from './dashboard-style.js'
import { escapeHtml, html } from './http.js'
import type { Access } from './session.js'

/** The status cards, in order: the library's statuses, then the bucket status counts inactive rows in. */
const COUNTED_STATUSES = [...SUBSCRIPTION_STATUSES, 'inactive'] as const satisfies readonly (keyof SchedulerStatus['counts'])[]

function table(id: string, headings: string[]): string {
  const cells = headings.map((h) => (h.startsWith('#') ? `<th class="num">${h.slice(1)}</th>` : `<th>${h}</th>`)).join('')
  return `<div class="scroll"><table id="${id}"><thead><tr>${cells}</tr></thead><tbody></tbody></table></div>`
}

const RUN_COLUMNS = ['Started', 'Trigger', 'State', '#Duration', '#Processed', '#Succeeded', '#Failed', '#Retried', '#Skipped']

const HOME = `
<main id="view-home" hidden>
  <section aria-labelledby="h-counts">
    <h2 id="h-counts">Subscriptions by status</h2>
    <div id="counts" class="cards"></div>
    <p class="meta">
      <span>Next sweep <strong id="next-fire">…</strong></span>
      <span>Schedule <strong id="schedule">…</strong></span>
      <span>Due now <strong id="due">…</strong></span>
      <span>Queue <strong id="queue">…</strong></span>
      <span title="Worker calls at the running instances' last reports (every 15 s, within 5 s of a change), and the call limits shared by every instance, with how much of them is in use">Calls <strong id="calls">…</strong></span>
      <span title="The instance serving this page: its state, and its circuit breaker's">This instance <strong id="instance">…</strong></span>
      <span>Updated <strong id="updated">…</strong></span>
      <span>Times in your browser's zone, <strong id="browser-zone">…</strong></span>
    </p>
  </section>
  <section aria-labelledby="h-charts" class="charts">
    <figure><figcaption id="h-charts">Subscriptions called and failed per day, last 14 days. <span id="days-note"></span></figcaption>
      <div id="chart-days"></div>
      <div class="legend"><span><i class="k-processed"></i>called</span><span><i class="k-failed"></i>failed</span></div></figure>
    <figure><figcaption>Fire lateness per run (slot to call), last 30 runs</figcaption>
      <div id="chart-lateness"></div>
      <div class="legend"><span><i class="k-p50"></i>p50</span><span><i class="k-p95"></i>p95</span></div></figure>
  </section>
  <section aria-labelledby="h-failing">
    <h2 id="h-failing">Failing now</h2>
    ${table('failing', ['Subscription', 'State', 'Failed', '#Attempts', '#In a row', 'Next run', 'Error'])}
  </section>
  <section aria-labelledby="h-runs">
    <h2 id="h-runs">Recent runs</h2>
    ${table('runs', RUN_COLUMNS)}
    <p id="runs-unfinished" class="meta" hidden></p>
    <p class="pager"><a id="all-runs-link" href="#/runs">All runs →</a></p>
  </section>
  <section aria-labelledby="h-failures">
    <h2 id="h-failures">Recent failed attempts</h2>
    ${table('failures', ['When', 'Subscription', 'Run', '#Attempt', '#HTTP', 'Outcome', 'Error'])}
  </section>
  <section aria-labelledby="h-instances">
    <h2 id="h-instances">Instances</h2>
    ${table('instances', ['Host', '#PID', 'Version', 'Role', 'State', 'Breaker', 'Started', 'Last report'])}
  </section>
</main>`

const SUBSCRIPTION = `
<main id="view-subscription" hidden>
  <section aria-labelledby="h-subscription">
    <p class="back"><a href="#/">← Overview</a></p>
    <h2 id="h-subscription">Subscription <span id="sub-id" class="mono"></span></h2>
    <div class="actions">
      <button id="sub-run" type="button">Process now</button>
      <button id="sub-pause" type="button" class="secondary">Pause</button>
      <button id="sub-resume" type="button" class="secondary">Resume</button>
      <button id="sub-retry" type="button" class="secondary">Retry</button>
    </div>
    <p id="sub-note-row" class="actions">
      <label for="sub-note">Note for its history (optional), sent with the next Pause, Resume, Skip or Pause until, then cleared</label>
      <input id="sub-note" type="text" maxlength="500" placeholder="Who asked, a ticket, why">
    </p>
  </section>
  <dl id="sub-fields" class="fields"></dl>
  <!-- Hidden until its next runs have loaded, so that another subscription's never show. -->
  <section id="sub-schedule" aria-labelledby="h-upcoming" hidden>
    <h2 id="h-upcoming">Next 5 runs</h2>
    <ol id="sub-upcoming"></ol>
    <div class="actions"><button id="sub-skip" type="button" class="secondary">Skip next run</button></div>
    <form id="sub-pause-until" class="actions">
      <label for="sub-until">Pause until (your time, <span id="sub-until-zone"></span>)</label>
      <input id="sub-until" type="datetime-local" required>
      <button id="sub-pause-until-go" type="submit" class="secondary">Pause until</button>
    </form>
    <form id="sub-backfill" class="actions">
      <label for="sub-backfill-from">Backfill past runs (your time, <span id="sub-backfill-zone"></span>) from</label>
      <input id="sub-backfill-from" type="datetime-local" required>
      <label for="sub-backfill-to">to</label>
      <input id="sub-backfill-to" type="datetime-local" required>
      <button id="sub-backfill-go" type="submit" class="secondary">Backfill…</button>
    </form>
  </section>
  <section aria-labelledby="h-history">
    <h2 id="h-history">History</h2>
    ${table('sub-history', ['When', 'What', 'Slot', 'Detail'])}
  </section>
  <section aria-labelledby="h-attempts">
    <h2 id="h-attempts">Recent failed attempts</h2>
    ${table('sub-attempts', ['When', 'Slot', 'Run', '#Attempt', '#HTTP', 'Outcome', 'Error'])}
  </section>
</main>`

const RUN = `
<main id="view-run" hidden>
  <section aria-labelledby="h-run">
    <p class="back"><a href="#/">← Overview</a></p>
    <h2 id="h-run">Run <span id="run-id" class="mono"></span></h2>
    <dl id="run-fields" class="fields"></dl>
  </section>
  <section aria-labelledby="h-run-failures">
    <h2 id="h-run-failures">Failed attempts in this run</h2>
    <div class="actions">
      <label for="run-failures-outcome">Outcome</label>
      <select id="run-failures-outcome"><option value="">all</option><option value="true">failed (gave up)</option><option value="false">will retry</option></select>
    </div>
    ${table('run-failures', ['When', 'Subscription', '#Attempt', '#HTTP', 'Outcome', 'Error'])}
    <p id="run-failures-note" class="meta"></p>
    <p class="pager"><button type="button" id="run-failures-newest" class="secondary" hidden>← Newest</button> <button type="button" id="run-failures-older" class="secondary" hidden>Older →</button></p>
  </section>
</main>`

const SUBSCRIPTIONS = `
<main id="view-subscriptions" hidden>
  <section aria-labelledby="h-all-subscriptions">
    <p class="back"><a href="#/">← Overview</a></p>
    <h2 id="h-all-subscriptions">Subscriptions</h2>
    <form id="subs-find" class="actions" role="search">
      <label for="subs-status">Status</label>
      <select id="subs-status"><option value="">all</option></select>
      <label for="subs-user">User id</label>
      <input id="subs-user" type="search" maxlength="200" placeholder="subscriptions.user_id">
      <button type="submit" class="secondary">Find</button>
    </form>
    ${table('all-subscriptions', ['Subscription', 'Status', 'User', 'Frequency', 'Next run', 'Last completed slot'])}
    <p class="pager"><a id="subs-first" href="#/subscriptions" hidden>← First</a> <a id="subs-next" href="#/subscriptions" hidden>Next →</a></p>
  </section>
</main>`

const RUNS = `
<main id="view-runs" hidden>
  <section aria-labelledby="h-all-runs">
    <p class="back"><a href="#/">← Overview</a></p>
    <h2 id="h-all-runs">Runs</h2>
    <div class="actions">
      <label for="runs-trigger">Trigger</label>
      <select id="runs-trigger"><option value="">all</option></select>
    </div>
    ${table('all-runs', RUN_COLUMNS)}
    <p class="pager"><a id="runs-newest" href="#/runs" hidden>← Newest runs</a> <a id="runs-older" href="#/runs" hidden>Older runs →</a></p>
  </section>
</main>`

function page(mount: string, nonce: string, access: Access): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Subscription scheduler</title>
<style nonce="${nonce}">${BASE_STYLE}${DASHBOARD_STYLE}</style>
</head>
<body data-base="${escapeHtml(mount)}" data-access="${access}" data-statuses="${escapeHtml(JSON.stringify(COUNTED_STATUSES))}" data-triggers="${escapeHtml(JSON.stringify(RUN_TRIGGERS))}">
<header>
  <h1>Subscription scheduler<small>pg-subscription-scheduler admin</small></h1>
  <form id="search" role="search">
    <input id="search-id" type="search" placeholder="Subscription id" aria-label="Subscription id" spellcheck="false" autocomplete="off">
    <button type="submit" class="secondary">Open</button>
  </form>
  <div class="actions">
    <button id="run-now" type="button">Run now</button>
    <button id="retry-failed" type="button" class="secondary">Retry failed</button>
    <button id="pause-calls" type="button" class="secondary" hidden>Pause calls</button>
    <button id="resume-calls" type="button" hidden>Resume calls</button>
    <span id="read-only" title="authorize answered 'read' for this sign-in: the actions that change state are hidden, and refused (403)">Read-only</span>
    <button id="sign-out" type="button" class="secondary">Sign out</button>
  </div>
</header>
<div id="confirm" role="alertdialog" aria-labelledby="confirm-text" hidden>
  <span id="confirm-text"></span>
  <input id="confirm-note" type="text" maxlength="500" placeholder="Note (optional): why, a ticket" aria-label="Note, kept with the pause" hidden>
  <button id="confirm-yes" type="button" class="danger"></button>
  <button id="confirm-no" type="button" class="secondary">Cancel</button>
</div>
<p id="notice" role="status" aria-live="polite"></p>
<p id="stale" role="alert" hidden></p>
<p id="calls-paused" role="alert" hidden></p>
${HOME}
${SUBSCRIPTION}
${RUN}
${RUNS}
${SUBSCRIPTIONS}
<script nonce="${nonce}">${DASHBOARD_SCRIPT}</script>
</body>
</html>
`
}

/** The page, with a fresh nonce and the headers that lock it down. */
/** The page for a caller with `access`: a read-only one sees no action that changes state. */
export function dashboardPage(mount: string, access: Access): Response {
  const nonce = randomBytes(16).toString('base64')
  return html(page(mount, nonce, access), {
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  })
}
