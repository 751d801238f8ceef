/**
 * The subscription page (`#/subscriptions/<id>`): its row, with every time in its own zone, its
 * recent failed attempts, and its actions. The scheduling controls (next runs, skip next, pause
 * until) are written against routes the engine adds later, and stay hidden until
 * `GET /subscriptions/:id/upcoming` answers: a 404 or 405 from the router hides them.
 */
export const SCRIPT_SUBSCRIPTION = String.raw`
var shownSubscription = null;
var upcomingSupported = null; // null: not asked yet; false once the router said there is no such route

function field(dl, name, label, value) {
  dl.append(el('dt', {}, label), el('dd', { 'data-field': name }, value));
}

function responseText(value) {
  if (value == null) return '—';
  var text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return el('pre', { class: 'response mono' }, text.length > 4000 ? text.slice(0, 4000) + '\n…' : text);
}

function renderSubscription(s, status) {
  shownSubscription = s;
  var zone = s.timezone || status.schedule.timezone;
  var zoneText = s.timezone ? zone : zone + " (the scheduler's default)";
  var at = function (iso) { return timeNode(iso, zone, true); };
  var dl = $('sub-fields');
  dl.replaceChildren();
  field(dl, 'status', 'Status', statusPill(s.status));
  field(dl, 'pausedReason', 'Paused reason', orDash(s.pausedReason));
  field(dl, 'active', 'Active (host)', s.active ? 'yes' : 'no');
  field(dl, 'frequency', 'Cadence', s.frequency == null ? '— (processed daily)' : s.frequency);
  field(dl, 'timezone', 'Zone', zoneText);
  field(dl, 'scheduledFor', 'Slot', at(s.scheduledFor));
  field(dl, 'nextRunAt', 'Next run', at(s.nextRunAt));
  field(dl, 'lastRunAt', 'Last run', at(s.lastRunAt));
  field(dl, 'attempts', 'Attempts', s.attempts);
  field(dl, 'consecutiveFailures', 'Consecutive failures', s.consecutiveFailures);
  field(dl, 'error', 'Error', s.error == null ? '—' : el('span', { class: 'err' }, s.error));
  field(dl, 'lastResponse', 'Last response', responseText(s.lastResponse));
  field(dl, 'userId', 'User', el('span', { class: 'mono' }, orDash(s.userId)));
  field(dl, 'updatedAt', 'Updated', timeNode(s.updatedAt));

  replaceRows($('sub-attempts').tBodies[0], s.recentErrors.map(function (f) {
    return el('tr', { 'data-attempt': f.attempt },
      el('td', {}, timeNode(f.failedAt)), el('td', {}, timeNode(f.scheduledFor, zone, true)),
      el('td', { class: 'mono' }, shortRunLink(f.runId)), el('td', { class: 'num' }, f.attempt),
      el('td', { class: 'num', 'data-http-status': f.status == null ? null : f.status }, orDash(f.status)),
      el('td', {}, outcomePill(f.final)), el('td', { class: 'err' }, f.error));
  }), 7, 'No failed attempts recorded.');

  setAvailable($('sub-pause'), s.status !== 'paused');
  setAvailable($('sub-resume'), s.status === 'paused');
  setAvailable($('sub-retry'), s.status === 'failed' || s.pausedReason === 'failures');
}

function upcomingList(body) {
  // Expected: { upcoming: [ISO instant, …] }; a bare array or { runs } is taken too.
  var list = Array.isArray(body) ? body : (body.upcoming || body.runs || []);
  return list.map(function (item) { return typeof item === 'string' ? item : (item.at || item.scheduledFor || item.runAt); });
}

function loadUpcoming(id, zone) {
  if (upcomingSupported === false) return Promise.resolve();
  return api('/subscriptions/' + id + '/upcoming?count=5').then(function (body) {
    upcomingSupported = true;
    if (!shownSubscription || shownSubscription.subscriptionId !== id) return;
    var items = upcomingList(body).map(function (iso) { return el('li', {}, timeNode(iso, zone, true)); });
    $('sub-upcoming').replaceChildren.apply($('sub-upcoming'), items.length ? items : [el('li', {}, 'No runs scheduled.')]);
    $('sub-schedule').hidden = false;
  }, function (error) {
    if (error.status === 404 || error.status === 405) {
      upcomingSupported = false;
      $('sub-schedule').hidden = true;
      return;
    }
    throw error;
  });
}

function loadSubscription(id) {
  if (!shownSubscription || shownSubscription.subscriptionId !== id) {
    shownSubscription = null;
    $('sub-id').textContent = id;
    $('sub-fields').replaceChildren();
    $('sub-schedule').hidden = true;
    replaceRows($('sub-attempts').tBodies[0], [], 7, 'Loading…');
  }
  return Promise.all([api('/subscriptions/' + encodeURIComponent(id)), schedulerStatus()]).then(function (got) {
    if (currentRoute().id !== id) return;
    renderSubscription(got[0], got[1]);
    return loadUpcoming(id, got[0].timezone || got[1].schedule.timezone);
  });
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
  subscriptionAction($('sub-run'), function (id) { return '/subscriptions/' + enc(id) + '/run?wait=false'; }, post, started);
  subscriptionAction($('sub-pause'), function (id) { return '/subscriptions/' + enc(id) + '/pause'; }, post, updated('Paused.'));
  subscriptionAction($('sub-resume'), function (id) { return '/subscriptions/' + enc(id) + '/resume'; }, post, updated('Resumed.'));
  subscriptionAction($('sub-retry'), function () { return '/failed/retry'; },
    function (id) { return { method: 'POST', json: { subscriptionIds: [id], wait: false } }; }, started);
  subscriptionAction($('sub-skip'), function (id) { return '/subscriptions/' + enc(id) + '/skip'; }, post, updated('Skipped the next run.'));
  $('sub-pause-until').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!shownSubscription) return;
    var id = shownSubscription.subscriptionId;
    // datetime-local has no zone: it is the browser's, as its label says.
    var until = new Date($('sub-until').value);
    if (isNaN(until.getTime())) return notice('Choose a date and time to pause until.', true);
    busy($('sub-pause-until-go'), function () {
      return api('/subscriptions/' + enc(id) + '/pause', { method: 'POST', json: { until: until.toISOString() } })
        .then(function () { notice(['Paused until ', timeNode(until.toISOString()), '.']); })
        .catch(function (error) { notice('Pause until failed: ' + error.message, true); }).then(refreshSoon);
    });
  });
  $('sub-until-zone').textContent = BROWSER_ZONE;
}
`
