/**
 * The run page (`#/runs/<id>`): its counts, duration and fire lateness, and the attempts that
 * failed in it (`GET /failures?runId=`), each linking to its subscription. A run still going is
 * read again every second while its page is open.
 */
export const SCRIPT_RUN = String.raw`
var RUN_FAILURES = 200;

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
  replaceRows($('run-failures').tBodies[0], failures.map(function (f) {
    return failureRow(f, { subscription: true, run: false });
  }), 6, 'No failed attempts in this run.');
  $('run-failures-note').textContent = failures.length >= RUN_FAILURES ? 'The ' + RUN_FAILURES + ' most recent are shown.' : '';
}

/** The page for a run id that cannot be read: nothing of another run, nothing loading. */
function forgetRun(id) {
  $('run-id').textContent = id;
  $('run-fields').replaceChildren();
  replaceRows($('run-failures').tBodies[0], [], 6, '—');
}

function loadRun(id) {
  if ($('run-id').textContent !== id) {
    $('run-id').textContent = id;
    $('run-fields').replaceChildren();
    replaceRows($('run-failures').tBodies[0], [], 6, 'Loading…');
  }
  var enc = encodeURIComponent(id);
  return Promise.all([api('/runs/' + enc), api('/failures?runId=' + enc + '&limit=' + RUN_FAILURES)]).catch(function (error) {
    if (currentRoute().id === id) forgetRun(id);
    throw error;
  }).then(function (got) {
    if (currentRoute().id !== id) return;
    renderRun(got[0], got[1].failures);
    // A run still going is read again each second while its page is open, until it finishes.
    if (!got[0].finishedAt && !got[0].error) setTimeout(function () {
      var route = currentRoute();
      if (route.view === 'run' && route.id === id) loadRun(id);
    }, 1000);
  });
}
`
