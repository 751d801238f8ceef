/**
 * The subscription page's scheduling part: its next runs (`GET …/upcoming`), "Skip next run"
 * (`POST …/skip`), "Pause until" (`POST …/pause` with `{ until }`), and its history (skips,
 * pauses, resumes, reschedules, backfills). Slots are shown in the subscription's zone, the
 * instants a history line mentions too; when something happened is in the browser's zone, as
 * every other "When" column.
 */
import { HISTORY_INSTANT_SOURCE } from '../schedule/iso-instant.js'

export const SCRIPT_SCHEDULE = String.raw`
var UPCOMING_COUNT = 5;
// The next slot on screen: "Skip next run" skips that one, or is told it is no longer next.
var shownNextSlot = null;
var HISTORY_PILLS = { skipped: 'warn', paused: 'warn', resumed: 'ok', rescheduled: 'run', backfill: 'run', ended: 'idle' };
// The instants and the run id a history note may hold (a backfill names its run).
var IN_DETAIL = /(${HISTORY_INSTANT_SOURCE}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;

function noRunsText(s) {
  if (!s.active) return 'No runs ahead: the host subscription is inactive.';
  if (s.status === 'ended') return 'No runs ahead: it has ended.';
  if (s.status === 'paused' && !s.pausedUntil) return 'No runs ahead: paused until resumed.';
  return 'No runs ahead.';
}

// A job owns the row: its outcome sets the next slot. (A row the MVP left stuck in 'processing' is not.)
function inFlight(s) {
  return s.inFlight === true;
}

function renderUpcoming(s, list, zone, why) {
  shownNextSlot = list.length > 0 ? list[0] : null;
  var items = list.map(function (iso) { return el('li', {}, timeNode(iso, zone, true)); });
  var none = why ? 'No runs ahead: ' + why : noRunsText(s);
  $('sub-upcoming').replaceChildren.apply($('sub-upcoming'), items.length ? items : [el('li', { class: 'empty' }, none)]);
  $('sub-schedule').hidden = false;
  // The API refuses a skip while a call is in flight (409): its outcome sets the next slot.
  setAvailable($('sub-skip'), list.length > 0 && !inFlight(s), inFlight(s) ? 'A call for it is in flight: its outcome sets the next slot.' : 'No run ahead to skip.');
}

function loadUpcoming(s, zone) {
  var id = s.subscriptionId;
  return api('/subscriptions/' + encodeURIComponent(id) + '/upcoming?count=' + UPCOMING_COUNT).then(function (body) {
    if (!shownSubscription || shownSubscription.subscriptionId !== id) return;
    renderUpcoming(s, body.upcoming, zone);
  }, function (error) {
    // 422: its own data keeps it from running (a frequency refused by unknownFrequency 'fail').
    if (error.status !== 422) throw error;
    if (!shownSubscription || shownSubscription.subscriptionId !== id) return;
    renderUpcoming(s, [], zone, error.message);
  });
}

/** A history note with every instant in it written in zone, as the rest of the page, and its run linked. */
function detailNodes(text, zone) {
  if (text == null) return '—';
  return text.split(IN_DETAIL).map(function (part, i) {
    if (i % 2 === 0) return part;
    return UUID.test(part) ? shortRunLink(part) : timeNode(part, zone, true);
  });
}

function renderHistory(s, zone) {
  replaceRows($('sub-history').tBodies[0], s.history.map(function (h) {
    return el('tr', { 'data-kind': h.kind },
      el('td', {}, timeNode(h.at)), el('td', {}, pill(HISTORY_PILLS[h.kind] || '', h.kind)),
      el('td', {}, timeNode(h.slot, zone, true)), el('td', { class: 'detail' }, detailNodes(h.detail, zone),
        h.note ? el('div', { class: 'note' }, 'Note: ', h.note) : null));
  }), 4, 'Nothing was done to its schedule yet.');
}

function wireSchedule() {
  var enc = encodeURIComponent;
  $('sub-skip').addEventListener('click', function () {
    if (!shownSubscription) return;
    var id = shownSubscription.subscriptionId;
    var zone = shownZone;
    // The slot shown, not whichever is next by the time the request lands: a second click, or a
    // page behind another admin's skip, never skips a slot nobody saw (the API answers 409).
    var slot = shownNextSlot;
    // Asked first: a skipped slot is not called, and nothing here calls it later.
    var question = slot ? 'Skip the run at ' + wallTime(slot, zone) + ' (' + zone + ')? The worker is not called for that slot, and nothing here calls it later.'
      : 'Skip its next run? The worker is not called for that slot.';
    ask($('sub-skip'), question, 'Yes, skip it', function () {
      return api('/subscriptions/' + enc(id) + '/skip', { method: 'POST', json: withNote(slot ? { slot: slot } : {}) }).then(noteKept).then(function (body) {
        if (!body.skipped) return notice('Nothing to skip: no run ahead.');
        notice(['Skipped the run at ', timeNode(body.skipped, zone, true), '; next run ', timeNode(body.nextRunAt, zone, true), '.']);
      }).catch(function (error) { notice('Skip next run failed: ' + error.message, true); }).then(refreshSoon);
    });
  });
  $('sub-pause-until').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!shownSubscription) return;
    var id = shownSubscription.subscriptionId;
    var zone = shownZone;
    // datetime-local has no zone: it is the browser's, as its label says.
    var until = new Date($('sub-until').value);
    if (isNaN(until.getTime())) return fieldError($('sub-until'), 'Choose a date and time to pause until.');
    busy($('sub-pause-until-go'), function () {
      return api('/subscriptions/' + enc(id) + '/pause', { method: 'POST', json: withNote({ until: until.toISOString() }) }).then(noteKept).then(function (s) {
        if (s.status === 'ended') return notice(['No run is left after ', timeNode(until.toISOString()), ': it has ended.']);
        notice(['Paused until ', timeNode(s.pausedUntil, zone, true), '; next run ', timeNode(s.nextRunAt, zone, true), '.']);
      }).catch(function (error) { notice('Pause until failed: ' + error.message, true); }).then(refreshSoon);
    });
  });
  $('sub-until-zone').textContent = BROWSER_ZONE;
  wireBackfill();
}

/**
 * Backfill: every past slot of the range is called, each with its own key, also those already
 * processed, so the form asks first, naming the range. Times are the browser's (datetime-local).
 */
function wireBackfill() {
  $('sub-backfill-zone').textContent = BROWSER_ZONE;
  $('sub-backfill').addEventListener('submit', function (event) {
    event.preventDefault();
    if (!shownSubscription) return;
    var id = shownSubscription.subscriptionId;
    var from = new Date($('sub-backfill-from').value);
    var to = new Date($('sub-backfill-to').value);
    if (isNaN(from.getTime()) || isNaN(to.getTime())) return fieldError($(isNaN(from.getTime()) ? 'sub-backfill-from' : 'sub-backfill-to'), 'Choose the first and the last instant of the range to backfill.');
    // Said before asking: a confirmation of a range the API refuses would only lead to an error.
    if (from > to) return fieldError($('sub-backfill-to'), 'The range ends before it starts: swap "from" and "to".');
    if (to.getTime() > serverNow()) return fieldError($('sub-backfill-to'), 'A backfill covers past slots only: end the range now or earlier.');
    // A refusal said for an earlier range is not about this one.
    notice('');
    var question = 'Backfill ' + id + ' from ' + wallTime(from.toISOString(), BROWSER_ZONE) + ' to ' + wallTime(to.toISOString(), BROWSER_ZONE) +
      '? The worker is called for every slot of its cadence in that range, each with its own idempotency key, also the slots already processed' +
      (shownSubscription.status === 'paused' ? ', although it is paused.' : '.');
    ask($('sub-backfill-go'), question, 'Yes, backfill', function () {
      return api('/subscriptions/' + encodeURIComponent(id) + '/backfill', { method: 'POST', json: { from: from.toISOString(), to: to.toISOString() } })
        .then(function (body) { notice(['Backfill started: run ', runLink(body.runId), '.']); })
        .catch(function (error) { notice('Backfill failed: ' + error.message, true); }).then(refreshSoon);
    });
  });
}
`
