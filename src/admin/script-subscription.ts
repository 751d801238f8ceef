/**
 * The subscription page (`#/subscriptions/<id>`): its row, with every time in its own zone (or
 * the scheduler's), its own schedule settings, its recent failed attempts, and its actions. The
 * scheduling part (next runs, skip, pause until, history) is script-schedule.ts.
 */
export const SCRIPT_SUBSCRIPTION = String.raw`
var shownSubscription = null;
var shownZone = 'UTC';

function field(dl, name, label, value) {
  dl.append(el('dt', {}, label), el('dd', { 'data-field': name }, value));
}

function responseText(value) {
  if (value == null) return '—';
  var text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return el('pre', { class: 'response mono' }, text.length > 4000 ? text.slice(0, 4000) + '\n…' : text);
}

/** Its frequency, and, when it names no cadence this scheduler knows, what that means: run daily, or not at all. */
function cadenceNode(s) {
  var name = s.frequency == null ? '— (no frequency)' : s.frequency;
  if (!s.unknownFrequency) return name;
  var then = s.unknownFrequency === 'fail' ? 'it is not called (unknownFrequency "fail")' : 'it runs daily, with a warning in the log';
  return [name, ' ', el('span', { class: 'err', 'data-unknown-frequency': s.unknownFrequency },
    'No cadence this scheduler knows (names are matched exactly): ' + then + '. Set subscriptions.frequency to one of its cadences.')];
}

function renderSubscription(s, status) {
  shownSubscription = s;
  var zone = shownZone = s.timezone || status.schedule.timezone;
  var zoneText = s.timezone ? zone : zone + " (the scheduler's default)";
  var at = function (iso) { return timeNode(iso, zone, true); };
  var dl = $('sub-fields');
  dl.replaceChildren();
  field(dl, 'status', 'Status', statusPill(s.status));
  field(dl, 'pausedReason', 'Paused reason', orDash(s.pausedReason));
  field(dl, 'active', 'Active (host)', s.active ? 'yes' : 'no');
  field(dl, 'frequency', 'Cadence', cadenceNode(s));
  field(dl, 'timezone', 'Zone', zoneText);
  field(dl, 'runAt', 'Time of day', s.runAt ? s.runAt + ' (' + zone + ')' : status.schedule.runAt + ' (' + zone + "), the scheduler's");
  field(dl, 'anchorAt', 'Anchor', at(s.anchorAt));
  field(dl, 'startsAt', 'Starts', at(s.startsAt));
  field(dl, 'endsAt', 'Ends', at(s.endsAt));
  field(dl, 'pausedUntil', 'Paused until', at(s.pausedUntil));
  field(dl, 'scheduledFor', 'Slot', at(s.scheduledFor));
  field(dl, 'nextRunAt', 'Next run', s.status === 'paused' && !s.pausedUntil && s.nextRunAt ? ['— (paused until resumed; its slot was ', at(s.nextRunAt), ')']
    : inFlight(s) && s.retryAt ? ['its retry (attempt ' + (s.attempts + 1) + '), ', at(s.retryAt)]
    : s.status === 'ended' || inFlight(s) || s.active !== true ? at(s.nextRunAt) : nextRunNode(s.nextRunAt, zone, s.status, true, s.retryAt));
  field(dl, 'lastRunAt', 'Last success', at(s.lastRunAt));
  field(dl, 'attempts', 'Attempts', s.attempts);
  field(dl, 'consecutiveFailures', 'Consecutive failures', s.consecutiveFailures);
  field(dl, 'error', 'Error', s.error == null ? '—' : el('span', { class: 'err' }, s.error));
  field(dl, 'lastResponse', 'Last response', responseText(s.lastResponse));
  // Linked to that user's subscriptions.
  field(dl, 'userId', 'User', s.userId == null ? '—' : el('a', { class: 'mono', href: '#/subscriptions?user=' + encodeURIComponent(s.userId), title: "This user's subscriptions" }, s.userId));
  field(dl, 'updatedAt', 'Updated', timeNode(s.updatedAt));

  replaceRows($('sub-attempts').tBodies[0], s.recentErrors.map(function (f) {
    return el('tr', { 'data-attempt': f.attempt },
      el('td', {}, timeNode(f.failedAt)), el('td', {}, timeNode(f.scheduledFor, zone, true)),
      el('td', { class: 'mono' }, shortRunLink(f.runId)), el('td', { class: 'num' }, f.attempt),
      el('td', { class: 'num', 'data-http-status': f.status == null ? null : f.status }, orDash(f.status)),
      el('td', {}, outcomePill(f.final)), el('td', { class: 'err' }, f.error));
  }), 7, 'No failed attempts recorded.');

  // What would do nothing is not offered: a paused or ended row is not processed on demand, nor
  // one whose call is in flight; an ended one has nothing to pause.
  var idle = s.status === 'paused' || s.status === 'ended';
  var why = s.status === 'ended' ? 'It has ended: its end date has passed (a later end brings it back).'
    : s.status === 'paused' ? 'It is paused: resume it first.' : null;
  var inactive = s.active !== true ? 'It is inactive in subscriptions (active = false, or its row is gone): it is never called.' : null;
  setAvailable($('sub-run'), !idle && !inFlight(s) && !inactive, why || inactive || 'A call for it is in flight: its outcome comes first.');
  setAvailable($('sub-pause'), !idle, s.status === 'paused' && !s.pausedUntil ? 'It is paused already, until resumed.' : why);
  setAvailable($('sub-pause-until-go'), s.status !== 'ended', why);
  setAvailable($('sub-backfill-go'), !inactive, 'It is inactive in subscriptions: a backfill would skip every slot.');
  setAvailable($('sub-resume'), s.status === 'paused', 'It is not paused.');
  setAvailable($('sub-retry'), s.status === 'failed' || s.pausedReason === 'failures', 'Its last slot did not fail: nothing to retry.');
}

var SUBSCRIPTION_ACTIONS = ['sub-run', 'sub-pause', 'sub-resume', 'sub-retry', 'sub-skip', 'sub-pause-until-go', 'sub-backfill-go'];

/** The page emptied for id, nothing of the subscription shown before; its tables say tablesText. */
function clearSubscription(id, tablesText) {
  shownSubscription = null;
  $('sub-id').textContent = id;
  $('sub-fields').replaceChildren();
  $('sub-schedule').hidden = true;
  replaceRows($('sub-history').tBodies[0], [], 4, tablesText);
  replaceRows($('sub-attempts').tBodies[0], [], 7, tablesText);
}

/** The page for an id with no row (or none that can be read): nothing of another, nothing loading, no action. */
function forgetSubscription(id) {
  clearSubscription(id, '—');
  SUBSCRIPTION_ACTIONS.forEach(function (name) { setAvailable($(name), false); });
}

function loadSubscription(id) {
  if (!shownSubscription || shownSubscription.subscriptionId !== id) clearSubscription(id, 'Loading…');
  return Promise.all([api('/subscriptions/' + encodeURIComponent(id)), schedulerStatus()]).then(function (got) {
    if (currentRoute().id !== id) return;
    renderSubscription(got[0], got[1]);
    renderHistory(got[0], shownZone);
    return loadUpcoming(got[0], shownZone);
  }, function (error) {
    // Not enrolled, or gone since (deleted while its page was open): nothing of it stays shown.
    if (currentRoute().id === id && (!shownSubscription || error.status === 404)) forgetSubscription(id);
    throw error;
  });
}

/** The body of a control, with the note typed for its history (if any), which a success then clears. */
function withNote(body) {
  var note = $('sub-note').value.trim();
  if (note) body.note = note;
  return body;
}

function noteKept(result) {
  $('sub-note').value = '';
  return result;
}

/**
 * What "Process now" does to the subscription shown: its slot due, it is called for that slot,
 * under its key; else it is a call of its own, under a key of its own (for billing, a charge
 * outside its schedule), even when it has just completed.
 */
function processQuestion(s) {
  var zone = shownZone;
  var due = s.nextRunAt && new Date(s.nextRunAt).getTime() <= serverNow();
  if (due) return 'Process ' + s.subscriptionId + ' now? Its slot of ' + wallTime(s.nextRunAt, zone) + ' is due: the worker is called for it, under its idempotency key.';
  if (!s.nextRunAt && !s.lastRunAt) return 'Process ' + s.subscriptionId + ' now? It has not run yet: this is its first run, which the next sweep would make.';
  var last = s.lastRunAt ? ' It last completed at ' + wallTime(s.lastRunAt, zone) + '.' : '';
  return 'Process ' + s.subscriptionId + ' now?' + last + ' The worker is called now, off its schedule, under a new idempotency key: for billing, another charge.';
}

/** Posts an action for the subscription shown, then shows what it did. */
function subscriptionAction(button, path, options, after) {
  button.addEventListener('click', function () {
    if (!shownSubscription) return;
    var id = shownSubscription.subscriptionId;
    busy(button, function () {
      return api(path(id), options && options(id)).then(after).catch(function (error) {
        notice(button.textContent + ' failed: ' + error.message, true);
      }).then(refreshSoon);
    });
  });
}

function wireSubscription() {
  var enc = encodeURIComponent;
  var post = function () { return { method: 'POST' }; };
  var started = function (body) { notice(['Started run ', runLink(body.runId), ' for this subscription.']); };
  var updated = function (label) { return function () { notice(label); }; };
  // Asked first: off its slot, a call on demand is one of its own, under a key of its own.
  $('sub-run').addEventListener('click', function () {
    var s = shownSubscription;
    if (!s) return;
    ask($('sub-run'), processQuestion(s), 'Yes, process now', function () {
      return api('/subscriptions/' + enc(s.subscriptionId) + '/run?wait=false', post()).then(started).catch(function (error) {
        notice('Process now failed: ' + error.message, true);
      }).then(refreshSoon);
    });
  });
  var noted = function () { return { method: 'POST', json: withNote({}) }; };
  var updatedNoted = function (label) { return function (result) { noteKept(result); notice(label); }; };
  subscriptionAction($('sub-pause'), function (id) { return '/subscriptions/' + enc(id) + '/pause'; }, noted, updatedNoted('Paused.'));
  subscriptionAction($('sub-resume'), function (id) { return '/subscriptions/' + enc(id) + '/resume'; }, noted, updatedNoted('Resumed.'));
  subscriptionAction($('sub-retry'), function () { return '/failed/retry'; },
    function (id) { return { method: 'POST', json: { subscriptionIds: [id], wait: false } }; }, started);
}
`
