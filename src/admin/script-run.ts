/**
 * The run page (`#/runs/<id>`): its counts, duration and fire lateness, and the attempts that
 * failed in it (`GET /failures?runId=`), each linking to its subscription, 200 a page, all or
 * those of one outcome (gave up, will retry). A run still going is read again every second while
 * its page is open.
 */
export const SCRIPT_RUN = String.raw`
var RUN_FAILURES = 200;
/** Which of the run's failed attempts the page shows: an outcome ('' all), and a page ('' the newest, else the id of the entry before it). */
var runFailures = { runId: null, final: '', before: '', settled: null };

function renderRun(run, failures) {
  var dl = $('run-fields');
  dl.replaceChildren();
  field(dl, 'trigger', 'Trigger', run.trigger);
  field(dl, 'state', 'State', runState(run));
  field(dl, 'startedAt', 'Started', runTimeNode(run.startedAt));
  field(dl, 'sweepFinishedAt', 'Sweep finished', runTimeNode(run.sweepFinishedAt));
  field(dl, 'finishedAt', 'Finished', runTimeNode(run.finishedAt));
  field(dl, 'duration', 'Duration', duration(run.durationMs));
  field(dl, 'processed', 'Processed', run.processed);
  field(dl, 'successful', 'Succeeded', run.successful);
  field(dl, 'failed', 'Failed', run.failed);
  field(dl, 'retried', 'Retried', run.retried);
  field(dl, 'skipped', 'Skipped', run.skipped);
  field(dl, 'latenessP50', 'Fire lateness p50', duration(run.latenessP50Ms));
  field(dl, 'latenessP95', 'Fire lateness p95', duration(run.latenessP95Ms));
  field(dl, 'error', 'Error', run.error == null ? '—' : el('span', { class: 'err' }, run.error));
  var shown = failures.slice(0, RUN_FAILURES);
  var none = runFailures.before ? 'No older failed attempts.' : runFailures.final === '' ? 'No failed attempts in this run.' : 'None in this run.';
  replaceRows($('run-failures').tBodies[0], shown.map(function (f) {
    return failureRow(f, { subscription: true, run: false });
  }), 6, none);
  var more = failures.length > RUN_FAILURES;
  $('run-failures-note').textContent = more || runFailures.before ? RUN_FAILURES + ' a page, newest first.' : '';
  $('run-failures-newest').hidden = !runFailures.before;
  $('run-failures-older').hidden = !more;
  $('run-failures-older').setAttribute('data-before', more ? shown[shown.length - 1].id : '');
}

/** The failures request of the run page: one more than a page, to know whether an older page exists. */
function runFailuresPath(enc) {
  return '/failures?runId=' + enc + '&limit=' + (RUN_FAILURES + 1) +
    (runFailures.final ? '&final=' + runFailures.final : '') + (runFailures.before ? '&before=' + runFailures.before : '');
}

function wireRun() {
  var again = function () { var route = currentRoute(); if (route.view === 'run') loadRun(route.id).catch(function (error) { notice(error.message, true); }); };
  $('run-failures-outcome').addEventListener('change', function () { runFailures.final = this.value; runFailures.before = ''; again(); });
  $('run-failures-older').addEventListener('click', function () { runFailures.before = this.getAttribute('data-before'); again(); });
  $('run-failures-newest').addEventListener('click', function () { runFailures.before = ''; again(); });
}

/** The page for a run id that cannot be read: nothing of another run, nothing loading. */
function forgetRun(id) {
  $('run-id').textContent = id;
  $('run-fields').replaceChildren();
  replaceRows($('run-failures').tBodies[0], [], 6, '—');
}

/** What the run page shows: the run, and which of its failures. */
function runPageKey(id) {
  return id + '|' + runFailures.final + '|' + runFailures.before;
}

function loadRun(id) {
  if (runFailures.runId !== id) {
    runFailures = { runId: id, final: '', before: '', settled: null };
    $('run-failures-outcome').value = '';
  }
  // A finished run changes no more: the page's refresh every few seconds need not read it again.
  if (runFailures.settled === runPageKey(id) && $('run-id').textContent === id) return Promise.resolve();
  if ($('run-id').textContent !== id) {
    $('run-id').textContent = id;
    $('run-fields').replaceChildren();
    replaceRows($('run-failures').tBodies[0], [], 6, 'Loading…');
  }
  var enc = encodeURIComponent(id);
  return Promise.all([api('/runs/' + enc), api(runFailuresPath(enc))]).catch(function (error) {
    if (currentRoute().id === id) forgetRun(id);
    throw error;
  }).then(function (got) {
    if (currentRoute().id !== id) return;
    renderRun(got[0], got[1].failures);
    runFailures.settled = got[0].finishedAt || got[0].error ? runPageKey(id) : null;
    // A run still going is read again each second while its page is open, until it finishes.
    if (!got[0].finishedAt && !got[0].error) setTimeout(function () {
      var route = currentRoute();
      if (route.view === 'run' && route.id === id) loadRun(id);
    }, 1000);
  });
}
`
