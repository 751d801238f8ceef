/**
 * The dashboard's overview: counts by status, the next sweep, the subscriptions failing now, the
 * recent runs and failures, all from `dashboard.json`; and the header's actions, where the ones
 * that touch every subscription ("Run now", "Retry failed", "Pause calls") ask for a confirmation first.
 */
export const SCRIPT_HOME = String.raw`
var lastStatus = null;
// When lastStatus was read: a view opened directly reads it again once it is older than this.
var lastStatusAt = 0;
var STATUS_KEPT_MS = 30000;

function renderCounts(status) {
  var names = STATUSES.concat(Object.keys(status.counts).filter(function (s) { return STATUSES.indexOf(s) < 0; }));
  var cards = names.map(function (s) {
    return el('div', { class: 'card', 'data-status': s },
      el('div', { class: 'label' }, el('span', { class: 'dot s-' + s }), el('a', { href: '#/subscriptions?status=' + encodeURIComponent(s), title: 'List them' }, s)),
      el('div', { class: 'n' }, status.counts[s] || 0));
  });
  cards.push(el('div', { class: 'card', 'data-status': 'total' }, el('div', { class: 'label' }, el('a', { href: '#/subscriptions', title: 'List them' }, 'total')), el('div', { class: 'n' }, status.total)));
  // Host subscriptions with no row yet: counted in no status above, and enrolled by the next sweep.
  if (status.unenrolled > 0) {
    var enrols = status.schedule.autoEnroll ? 'the next sweep enrols them (autoEnroll), or enrollMissing() now.' : 'autoEnroll is off: enroll() or enrollMissing() enrols them.';
    cards.push(el('div', { class: 'card', 'data-status': 'unenrolled', title: 'In subscriptions, with no row yet: ' + enrols },
      el('div', { class: 'label' }, 'not enrolled yet'), el('div', { class: 'n' }, status.unenrolled)));
  }
  $('counts').replaceChildren.apply($('counts'), cards);
  $('next-fire').replaceChildren(timeNode(status.nextFireAt), ' (' + relative(status.nextFireAt) + ')');
  $('schedule').textContent = status.schedule.cron + ' in ' + status.schedule.timezone;
  $('due').textContent = String(status.due);
  $('queue').textContent = status.queue.waiting + ' waiting, ' + status.queue.active + ' taken by instances' +
    (status.queue.stranded > 0 ? ', ' + status.queue.stranded + ' stranded (their jobs failed for good: Process now takes one)' : '');
}

/**
 * Calls in flight and held back, and each shared limit with how much of it is in use, and how
 * many running instances calling the worker are not held to it (a limit a deploy dropped stays
 * in the database).
 */
function callsText(limits, instances) {
  if (!limits) return 'not shown: the tables are older than this version (migrate)';
  var running = (instances || []).filter(function (i) { return i.state === 'running' && i.works; });
  var calling = running.filter(function (i) { return i.calls; });
  function without(limit) {
    var free = calling.filter(function (i) { return i[limit] == null; }).length;
    return free ? '; ' + free + ' of ' + calling.length + ' running instances calling the worker not held to it' : '';
  }
  var older = running.length - calling.length;
  var parts = [limits.callsInFlight + ' in flight, ' + limits.callsWaiting + ' waiting' + (older ? ' (' + older + ' running of an older version ' + (older === 1 ? 'reports' : 'report') + ' none)' : '')];
  if (limits.maxConcurrentCalls !== null) {
    // Under a rate too, a call holds its permit while it waits its turn (up to about 2 s).
    var waitingTurn = limits.maxCallsPerSecond !== null && limits.bookedAheadMs > 0 ? ', some by calls waiting their turn under the rate' : '';
    var full = limits.permitsHeld >= limits.maxConcurrentCalls ? ', every permit held' + waitingTurn : '';
    parts.push('maxConcurrentCalls ' + limits.maxConcurrentCalls + ' (' + limits.permitsHeld + ' held' + full + without('maxConcurrentCalls') + ')');
  }
  if (limits.maxCallsPerSecond !== null) {
    var ahead = limits.bookedAheadMs > 0 ? 'booked ' + (limits.bookedAheadMs / 1000).toFixed(1) + ' s ahead' : 'none booked ahead';
    parts.push('maxCallsPerSecond ' + limits.maxCallsPerSecond + ' (' + ahead + without('maxCallsPerSecond') + ')');
  }
  return parts.join(' · ');
}

/** The instance serving the page, and its circuit breaker when it has one. */
function renderInstance(health) {
  var breaker = health.breaker;
  var nodes = [health.state];
  if (breaker) nodes.push(' · circuit breaker ' + breaker.state);
  if (breaker && breaker.state === 'open') nodes.push(': worker calls held until ', timeNode(breaker.until));
  $('instance').replaceChildren.apply($('instance'), nodes);
}

function renderRuns(runs, unfinished) {
  replaceRows($('runs').tBodies[0], runs.map(runRow), 9, 'No runs yet.');
  // A run still going that the recent ones have pushed out (a big sweep settling behind a
  // per-minute cron's empty runs): the table alone would say everything has finished.
  var oldest = unfinished.oldest;
  var listed = oldest && runs.some(function (run) { return run.runId === oldest.runId; });
  var note = $('runs-unfinished');
  note.hidden = !oldest || listed;
  if (note.hidden) return note.replaceChildren();
  var settled = oldest.successful + oldest.failed + oldest.skipped;
  note.replaceChildren((unfinished.count === 1 ? '1 run' : unfinished.count + ' runs') + ' not finished; the oldest, ',
    runLink(oldest.runId, oldest.trigger + ' run'), ' started ', timeNode(oldest.startedAt), ', has settled ' + settled + ' of ' + oldest.processed + '.');
}

/** One failed attempt; show.subscription and show.run add those columns. */
function failureRow(f, show) {
  return el('tr', { 'data-subscription-id': f.subscriptionId },
    el('td', {}, timeNode(f.failedAt)),
    show.subscription ? el('td', {}, subscriptionLink(f.subscriptionId)) : [],
    show.run ? el('td', { class: 'mono' }, shortRunLink(f.runId)) : [],
    el('td', { class: 'num' }, f.attempt), el('td', { class: 'num' }, orDash(f.status)),
    el('td', {}, outcomePill(f.final)), errorCell(f.error));
}

function renderFailures(failures) {
  replaceRows($('failures').tBodies[0], failures.map(function (f) { return failureRow(f, { subscription: true, run: true }); }), 7, 'No failures recorded.');
}

function renderFailing(failing, status) {
  replaceRows($('failing').tBodies[0], failing.map(function (f) {
    // A next run is a slot: shown in the subscription's own zone, as on its page (by its
    // abbreviation here, for the table's width; its page names it).
    return el('tr', { 'data-subscription-id': f.subscriptionId },
      el('td', {}, subscriptionLink(f.subscriptionId)), el('td', {}, statusPill(f.status, f.pausedReason)),
      el('td', {}, timeNode(f.failedAt)), el('td', { class: 'num' }, f.attempts),
      el('td', { class: 'num' }, f.consecutiveFailures), el('td', {}, nextRunNode(f.nextRunAt, f.timezone || status.schedule.timezone, f.status, false, f.retryAt)),
      errorCell(f.error));
  }), 7, 'No subscription is failing.');
}

function loadHome() {
  return api('/dashboard.json').then(function (data) {
    lastStatus = data.status;
    lastStatusAt = Date.now();
    renderCounts(data.status);
    renderInstance(data.instance);
    renderFailing(data.failing, data.status);
    renderRuns(data.runs, data.status.unfinishedRuns);
    renderFailures(data.failures);
    renderInstances(data.instances, data.instance);
    $('calls').textContent = callsText(data.status.limits, data.instances);
    renderCallsPause(data.status.callsPaused);
    var now = new Date(serverNow());
    $('updated').replaceChildren(el('time', { datetime: now.toISOString() }, clockTime(now)));
  });
}

/** A fleet-wide pause of calls: a banner every view shows, and the button that lifts it (or makes one). */
function renderCallsPause(pause) {
  $('calls-paused').hidden = !pause;
  $('pause-calls').hidden = !!pause;
  $('resume-calls').hidden = !pause;
  var paused = 'Calls are paused on every instance: resume calls first.';
  setAvailable($('run-now'), !pause, paused);
  setAvailable($('retry-failed'), !pause, paused);
  if (!pause) return;
  $('calls-paused').replaceChildren('Calls are paused on every instance since ', timeNode(pause.pausedAt),
    (pause.note ? ' (' + pause.note + ')' : '') + ': no sweep claims, and nobody is called until calls are resumed.');
}

/** The scheduler's status: the overview's copy, or fetched once for a view opened directly. */
function schedulerStatus() {
  if (lastStatus && Date.now() - lastStatusAt < STATUS_KEPT_MS) return Promise.resolve(lastStatus);
  return api('/status').then(function (status) {
    lastStatus = status;
    lastStatusAt = Date.now();
    // Every view shows a pause of calls, and the button that lifts it.
    renderCallsPause(status.callsPaused);
    return status;
  });
}

/** What Run now would call, as the status last read it. */
function runNowQuestion() {
  var s = lastStatus;
  if (!s) return 'Run a full sweep now? Every due subscription is processed.';
  var plural = function (n) { return n + ' subscription' + (n === 1 ? '' : 's'); };
  var enrolled = s.unenrolled > 0 && s.schedule.autoEnroll ? ', and the ' + plural(s.unenrolled) + ' not enrolled yet are enrolled and called too' : '';
  if (s.due === 0 && !enrolled) return 'Run a full sweep now? No subscription is due: it calls only what comes due before it runs.';
  return 'Run a full sweep now? ' + (s.due === 1 ? '1 subscription is' : s.due + ' subscriptions are') + ' due' + enrolled + ': the worker is called for each.';
}

var confirmed = null;
// The button that asked: focus goes back to it when the question closes, not to the page's top.
var askedBy = null;

function closeConfirm() {
  var back = askedBy;
  var open = !$('confirm').hidden;
  confirmed = null;
  askedBy = null;
  $('confirm').hidden = true;
  $('confirm-note').hidden = true;
  if (open && back && document.body.contains(back) && !back.closest('[hidden]')) back.focus();
}

/** Tab and Shift+Tab stay within the question while it is open, as in a modal dialog. */
function keepFocusInConfirm(event) {
  if (event.key !== 'Tab' || $('confirm').hidden) return;
  var stops = Array.prototype.filter.call($('confirm').querySelectorAll('input, button'), function (node) { return !node.hidden && !node.disabled; });
  var first = stops[0], last = stops[stops.length - 1];
  var inside = $('confirm').contains(document.activeElement);
  if (event.shiftKey ? (!inside || document.activeElement === first) : (!inside || document.activeElement === last)) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

/**
 * Asks in the page (not window.confirm); "yes" runs the action, with the button busy meanwhile.
 * With noted, the question takes a note too, which the action is given (trimmed, or undefined).
 */
function ask(button, question, yesLabel, action, noted) {
  var note = $('confirm-note');
  $('confirm-text').textContent = question;
  $('confirm-yes').textContent = yesLabel;
  note.value = '';
  note.hidden = !noted;
  $('confirm').hidden = false;
  askedBy = button;
  confirmed = function () {
    var text = note.value.trim();
    return busy(button, function () { return action(text || undefined); });
  };
  // Cancel first: Enter pressed twice must not start what the question asks about.
  (noted ? note : $('confirm-no')).focus();
}

/** A confirmation in the page: one click only asks, the second acts. */
function askFirst(button, question, yesLabel, action, noted) {
  button.addEventListener('click', function () { ask(button, typeof question === 'function' ? question() : question, yesLabel, action, noted); });
}

/** What Retry failed would retry, as the overview last read it. */
function retryQuestion() {
  var s = lastStatus;
  if (!s) return 'Retry every failed subscription now?';
  var failed = s.counts.failed || 0;
  var paused = s.pausedForFailures || 0;
  var what = failed + ' failed subscription' + (failed === 1 ? '' : 's') + (paused ? ' and ' + paused + ' paused after failing' : '');
  return 'Retry the ' + what + ' now? Each is called again for its failed slot.';
}

function startedNotice(label) {
  return function (body) { notice([label + ' started: run ', runLink(body.runId), '.']); };
}

function wireHeader() {
  $('confirm-yes').addEventListener('click', function () {
    var action = confirmed;
    closeConfirm();
    if (action) action();
  });
  $('confirm-no').addEventListener('click', closeConfirm);
  $('confirm-note').addEventListener('keydown', function (event) { if (event.key === 'Enter') $('confirm-yes').click(); });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') closeConfirm(); });
  document.addEventListener('keydown', keepFocusInConfirm);

  askFirst($('run-now'), runNowQuestion, 'Yes, run now', function () {
    return api('/process-subscriptions?wait=false', { method: 'POST' }).then(startedNotice('Run'))
      .catch(function (error) { notice('Run failed: ' + error.message, true); }).then(refreshSoon);
  });
  askFirst($('retry-failed'), retryQuestion, 'Yes, retry all failed', function () {
    return api('/failed/retry?wait=false', { method: 'POST' }).then(startedNotice('Retry of failed subscriptions'))
      .catch(function (error) { notice('Retry failed: ' + error.message, true); }).then(refreshSoon);
  });
  askFirst($('pause-calls'), 'Pause every call to the worker, on every instance? No sweep claims until calls are resumed; calls in flight finish.', 'Yes, pause calls', function (note) {
    return api('/calls/pause', { method: 'POST', json: note ? { note: note } : {} }).then(function () { notice('Calls paused on every instance.'); })
      .catch(function (error) { notice('Pause failed: ' + error.message, true); }).then(refreshSoon);
  }, true);
  askFirst($('resume-calls'), 'Resume calls? The next sweep calls what fell due meanwhile.', 'Yes, resume calls', function () {
    return api('/calls/resume', { method: 'POST' }).then(function () { notice('Calls resumed.'); })
      .catch(function (error) { notice('Resume failed: ' + error.message, true); }).then(refreshSoon);
  });
  $('sign-out').addEventListener('click', function () {
    busy($('sign-out'), function () {
      // No more reads: one sent once the cookie is cleared, before the reload, would be refused.
      signedOut = true;
      // Reload either way: the page then shows the sign-in form, or says why it could not.
      return api('/sign-out', { method: 'POST' }).catch(function () {}).then(function () { location.reload(); });
    });
  });
  $('search').addEventListener('submit', function (event) {
    event.preventDefault();
    var id = $('search-id').value.trim().toLowerCase();
    if (!UUID.test(id)) return fieldError($('search-id'), 'Enter a subscription id: a UUID such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9.');
    var hash = '#/subscriptions/' + id;
    if (location.hash === hash) refreshSoon();
    else location.hash = hash;
  });
}
`
