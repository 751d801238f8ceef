/**
 * The runs page (`#/runs`): the whole run history, newest first, a page at a time, with a filter
 * by trigger. The address holds the page (`#/runs?trigger=cron&before=<run id>`), so it can be
 * bookmarked and the browser's Back goes to the page before. Pages are keyed by the last run of
 * the page before (`GET /runs?before=`): a run started meanwhile shifts no page. The first page
 * follows new runs as the page refreshes; an older one stays as it is.
 */
export const SCRIPT_RUNS = String.raw`
var RUNS_PAGE = 50;
// The library's triggers, as the page is given them (no copy here to fall behind).
var RUN_TRIGGERS = JSON.parse(document.body.getAttribute('data-triggers') || '[]');

/** One run's row, on the overview and the runs page. */
function runRow(run) {
  return el('tr', { 'data-run-id': run.runId },
    el('td', {}, runLink(run.runId, runTimeNode(run.startedAt))), el('td', {}, run.trigger), el('td', {}, runState(run)),
    el('td', { class: 'num' }, duration(run.durationMs)), el('td', { class: 'num' }, run.processed),
    el('td', { class: 'num' }, run.successful), el('td', { class: 'num' }, run.failed),
    el('td', { class: 'num' }, run.retried), el('td', { class: 'num' }, run.skipped));
}

/** The address of a page of runs: all triggers or one, from the newest or before a run. */
function runsHash(trigger, before) {
  var query = [];
  if (trigger) query.push('trigger=' + encodeURIComponent(trigger));
  if (before) query.push('before=' + encodeURIComponent(before));
  return '#/runs' + (query.length ? '?' + query.join('&') : '');
}

/** The page the address asks for; an error naming what is wrong with it. */
function runsQuery(search) {
  var params = new URLSearchParams(search || '');
  var query = { trigger: params.get('trigger') || '', before: params.get('before') || '' };
  if (query.trigger.indexOf(',') >= 0) {
    throw new Error('This page filters by one trigger at a time, not "' + query.trigger + '" (GET /runs?trigger= takes several).');
  }
  if (query.trigger && RUN_TRIGGERS.indexOf(query.trigger) < 0) {
    throw new Error('"' + query.trigger + '" is not a trigger: runs are started by ' + RUN_TRIGGERS.join(', ') + '.');
  }
  if (query.before && !UUID.test(query.before)) throw new Error('"' + query.before + '" is not a run id: ids are UUIDs.');
  return query;
}

function showRunsNav(query, more, last) {
  $('runs-newest').hidden = !query.before;
  $('runs-newest').setAttribute('href', runsHash(query.trigger, null));
  $('runs-older').hidden = !more;
  if (last) $('runs-older').setAttribute('href', runsHash(query.trigger, last.runId));
}

/** A page that cannot be shown (a bad address, an unknown run): nothing of the page before, and the way to the newest runs. */
function forgetRuns(trigger) {
  replaceRows($('all-runs').tBodies[0], [], 9, '—');
  $('runs-trigger').value = trigger;
  showRunsNav({ trigger: trigger, before: 'none' }, false, null);
}

function loadRuns(search) {
  var query;
  try { query = runsQuery(search); } catch (error) {
    forgetRuns('');
    return Promise.reject(error);
  }
  $('runs-trigger').value = query.trigger;
  var path = '/runs?limit=' + (RUNS_PAGE + 1) + (query.trigger ? '&trigger=' + encodeURIComponent(query.trigger) : '') +
    (query.before ? '&before=' + encodeURIComponent(query.before) : '');
  return api(path).catch(function (error) {
    if (currentRoute().view === 'runs' && currentRoute().id === search) forgetRuns(query.trigger);
    throw error;
  }).then(function (body) {
    if (currentRoute().view !== 'runs' || currentRoute().id !== search) return;
    var runs = body.runs.slice(0, RUNS_PAGE);
    var empty = query.before ? 'No older runs.' : query.trigger ? 'No ' + query.trigger + ' runs yet.' : 'No runs yet.';
    replaceRows($('all-runs').tBodies[0], runs.map(runRow), 9, empty);
    showRunsNav(query, body.runs.length > RUNS_PAGE, runs[runs.length - 1]);
  });
}

function wireRuns() {
  var select = $('runs-trigger');
  RUN_TRIGGERS.forEach(function (trigger) { select.appendChild(el('option', { value: trigger }, trigger)); });
  select.addEventListener('change', function () { location.hash = runsHash(select.value, null); });
}
`
