/**
 * The dashboard's script, inlined into the page under its CSP nonce: the helpers and views of
 * the script-*.ts modules, joined into one function scope, plus the hash router that picks the
 * view (`#/`, `#/subscriptions/<id>`, `#/runs/<id>`, `#/runs`) and refreshes it every few seconds. It sends
 * `X-Requested-With`, which the API requires of cookie-authenticated requests that change state.
 */
import { SCRIPT_CHARTS } from './script-charts.js'
import { SCRIPT_CORE } from './script-core.js'
import { SCRIPT_HOME } from './script-home.js'
import { SCRIPT_INSTANCES } from './script-instances.js'
import { SCRIPT_RUN } from './script-run.js'
import { SCRIPT_RUNS } from './script-runs.js'
import { SCRIPT_SUBSCRIPTIONS } from './script-subscriptions.js'
import { SCRIPT_SCHEDULE } from './script-schedule.js'
import { SCRIPT_SUBSCRIPTION } from './script-subscription.js'
import { SCRIPT_TIME } from './script-time.js'

const SCRIPT_ROUTER = String.raw`
var REFRESH_MS = 3000;
// A page whose loads are slow (the counts of a table of millions) refreshes less often: its loads
// take at most a tenth of the time, and it still refreshes at least every 30 s.
var LOAD_SHARE = 10;
var SLOWEST_REFRESH_MS = 30000;
var lastLoadMs = 0;
// A load unanswered this long is said, over what the page still shows (a locked table, a
// database gone slow): the figures would otherwise look current.
var STALE_MS = 10000;
var loading = null;
var loadStartedAt = null;
var lastLoadedAt = null;
// Since when loads have failed for want of any answer (the server down, the network gone): said
// at once, since such a load fails fast and no wait would show it.
var unansweredSince = null;

function showStale() {
  var box = $('stale');
  var waited = loadStartedAt === null ? 0 : Date.now() - loadStartedAt;
  var since = unansweredSince !== null ? unansweredSince : waited >= STALE_MS ? loadStartedAt : null;
  document.body.classList.toggle('stale', since !== null);
  if (since === null) { box.hidden = true; box.removeAttribute('data-since'); return; }
  // The text changes only when what it says does: an alert that changed every second would be
  // read out again every second.
  var key = (unansweredSince !== null ? 'down ' : 'slow ') + since + ' ' + (lastLoadedAt ? lastLoadedAt.getTime() : '');
  if (!box.hidden && box.getAttribute('data-since') === key) return;
  box.setAttribute('data-since', key);
  box.replaceChildren();
  var sinceAt = new Date(since + clockOffsetMs);
  var at = el('time', { datetime: sinceAt.toISOString() }, clockTime(sinceAt));
  append(box, [unansweredSince !== null ? ['The server is not answering since ', at, ' (is it down, or the network?): '] : ['No answer from the server since ', at, ' (is the database slow, or a table locked?): '],
    lastLoadedAt ? ['what this page shows is from ', el('time', { datetime: lastLoadedAt.toISOString() }, clockTime(lastLoadedAt)), '.'] : 'nothing to show yet.']);
  box.hidden = false;
}
var VIEWS = { home: 'view-home', subscription: 'view-subscription', run: 'view-run', runs: 'view-runs', subscriptions: 'view-subscriptions' };

function currentRoute() {
  // The runs page's id is its query (trigger, before): each page of it is a page of its own.
  var list = /^#\/runs(?:\?(.*))?$/.exec(location.hash);
  if (list) return { view: 'runs', id: list[1] || '' };
  var subscriptions = /^#\/subscriptions(?:\?(.*))?$/.exec(location.hash);
  if (subscriptions) return { view: 'subscriptions', id: subscriptions[1] || '' };
  var match = /^#\/(subscriptions|runs)\/([^/?#]+)$/.exec(location.hash);
  // An address of no page shows the overview, saying so (its id tells it from the overview's own).
  if (!match) return /^(#\/?)?$/.test(location.hash) ? { view: 'home', id: null } : { view: 'home', id: location.hash, unknown: true };
  return { view: match[1] === 'subscriptions' ? 'subscription' : 'run', id: decodeURIComponent(match[2]).toLowerCase() };
}

function loadView(route) {
  if (route.view === 'home') return Promise.all([loadHome(), loadCharts(false)]);
  if (route.view === 'runs') return loadRuns(route.id);
  if (route.view === 'subscriptions') return loadSubscriptions(route.id);
  if (!UUID.test(route.id)) {
    if (route.view === 'subscription') forgetSubscription(route.id);
    else forgetRun(route.id);
    return Promise.reject(new Error('"' + route.id + '" is not an id: ids are UUIDs such as 3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9.'));
  }
  return route.view === 'subscription' ? loadSubscription(route.id) : loadRun(route.id);
}

function refresh() {
  if (loading) return loading;
  if (signedOut) return Promise.resolve();
  loadStartedAt = Date.now();
  loading = loadView(currentRoute()).then(function () {
    lastLoadedAt = new Date(serverNow());
    unansweredSince = null;
    // Only a failed load's message goes once a load succeeds; an action's stays until the next.
    if ($('notice').hasAttribute('data-load-error')) notice('');
  }).catch(function (error) {
    // An action's failure stays (it says what was not done); the stale clock says the page is old.
    if (error.unanswered) { if (unansweredSince === null) unansweredSince = loadStartedAt; }
    else unansweredSince = null;
    var box = $('notice');
    if (box.className === 'error' && !box.hasAttribute('data-load-error')) return;
    notice(error.message, true);
    box.setAttribute('data-load-error', '');
  }).finally(function () {
    lastLoadMs = Date.now() - loadStartedAt;
    loading = null;
    loadStartedAt = null;
    showStale();
  });
  return loading;
}

/** The next refresh: every 3 s, or ten times as long as the last load took, up to 30 s. */
function scheduleRefresh() {
  setTimeout(function () {
    (document.hidden ? Promise.resolve() : refresh()).then(scheduleRefresh, scheduleRefresh);
  }, Math.min(SLOWEST_REFRESH_MS, Math.max(REFRESH_MS, LOAD_SHARE * lastLoadMs)));
}

/** Refreshes once any load in flight is done, so that what it shows is current. */
function refreshSoon() {
  return (loading || Promise.resolve()).then(refresh);
}

var shownRoute = null;
var VIEW_TITLES = { home: 'Overview', subscription: 'Subscription', run: 'Run', runs: 'Runs', subscriptions: 'Subscriptions' };

/**
 * Says which page opened, as a page load would: the window's title names it, and focus moves to
 * its heading, which a screen reader reads out (the view changed without a word before).
 */
function announceView(route, moved) {
  var id = (route.view === 'subscription' || route.view === 'run') && !route.unknown ? ' ' + route.id : '';
  document.title = VIEW_TITLES[route.view] + id + ' \u00b7 Subscription scheduler';
  if (!moved) return;
  var heading = $(VIEWS[route.view]).querySelector('h2');
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}

function showView() {
  var route = currentRoute();
  var moved = shownRoute !== null && (shownRoute.view !== route.view || shownRoute.id !== route.id);
  // A notice is about the page it was given on: it goes when another page is opened.
  if (moved) notice('');
  // A list's filter or page changes its address, not the page: focus stays on the control used.
  var anotherPage = moved && (shownRoute.view !== route.view || route.view === 'subscription' || route.view === 'run');
  shownRoute = route;
  for (var name in VIEWS) $(VIEWS[name]).hidden = name !== route.view;
  announceView(route, anotherPage);
  // The search box shows the subscription open, and nothing on other pages: an id left in it read as a filter.
  $('search-id').value = route.view === 'subscription' ? route.id : '';
  if (route.unknown) notice('There is no page at ' + route.id + ': this is the overview. Pages: #/, #/runs, #/runs/<id>, #/subscriptions, #/subscriptions/<id>.', true);
  closeConfirm();
  window.scrollTo(0, 0);
  return refreshSoon();
}

$('browser-zone').textContent = BROWSER_ZONE;
wireHeader();
wireSubscription();
wireSchedule();
wireRuns();
wireRun();
wireSubscriptions();
window.addEventListener('hashchange', showView);
scheduleRefresh();
setInterval(showStale, 1000);
document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
showView();
`

export const DASHBOARD_SCRIPT = `'use strict';
(function () {
${SCRIPT_CORE}${SCRIPT_TIME}${SCRIPT_HOME}${SCRIPT_INSTANCES}${SCRIPT_CHARTS}${SCRIPT_SUBSCRIPTION}${SCRIPT_SCHEDULE}${SCRIPT_RUN}${SCRIPT_RUNS}${SCRIPT_SUBSCRIPTIONS}${SCRIPT_ROUTER}
})();
`
