/**
 * The subscriptions page (`#/subscriptions?status=paused&user=<id>&after=<id>`): the subscriptions
 * of one status (as the overview counts them, `inactive` too), or of one user, 50 a page in id
 * order, each linking to its own page. The address holds the page, as the runs page's does, so it
 * can be bookmarked; the overview's status cards link here.
 */
export const SCRIPT_SUBSCRIPTIONS = String.raw`
var SUBSCRIPTIONS_PAGE = 50;

function subscriptionsHash(query) {
  var parts = [];
  if (query.status) parts.push('status=' + encodeURIComponent(query.status));
  if (query.user) parts.push('user=' + encodeURIComponent(query.user));
  if (query.after) parts.push('after=' + encodeURIComponent(query.after));
  return '#/subscriptions' + (parts.length ? '?' + parts.join('&') : '');
}

/** The page the address asks for; an error naming what is wrong with it. */
function subscriptionsQuery(search) {
  var params = new URLSearchParams(search || '');
  // A filter this page does not know would list every subscription, as if it had matched.
  params.forEach(function (value, key) {
    if (key === 'status' || key === 'user' || key === 'after') return;
    throw new Error('"' + key + '" is not a filter of this page: they are status, user and after' + (/^user/i.test(key) ? ' (user=<id>)' : '') + '.');
  });
  var query = { status: params.get('status') || '', user: (params.get('user') || '').trim(), after: params.get('after') || '' };
  if (query.status && STATUSES.indexOf(query.status) < 0) {
    throw new Error('"' + query.status + '" is not a status: they are ' + STATUSES.join(', ') + '.');
  }
  if (query.after && !UUID.test(query.after)) throw new Error('"' + query.after + '" is not a subscription id: ids are UUIDs.');
  return query;
}

/** One subscription's row; its slots in its own zone, as on its page (the scheduler's when it has none). */
function subscriptionListRow(s, status) {
  var zone = s.timezone || status.schedule.timezone;
  return el('tr', { 'data-subscription-id': s.subscriptionId },
    el('td', {}, subscriptionLink(s.subscriptionId)), el('td', {}, s.active === true ? statusPill(s.status, s.pausedReason) : pill('idle', s.active === false ? 'inactive' : 'no host row', s.status)),
    el('td', { class: 'mono' }, orDash(s.userId)), el('td', {}, orDash(s.frequency)),
    el('td', {}, timeNode(s.nextRunAt, zone, true)), el('td', {}, timeNode(s.lastCompletedFor, zone, true)));
}

function showSubscriptionsNav(query, next) {
  $('subs-first').hidden = !query.after;
  $('subs-first').setAttribute('href', subscriptionsHash({ status: query.status, user: query.user }));
  $('subs-next').hidden = !next;
  if (next) $('subs-next').setAttribute('href', subscriptionsHash({ status: query.status, user: query.user, after: next }));
}

function loadSubscriptions(search) {
  var query;
  try { query = subscriptionsQuery(search); } catch (error) {
    replaceRows($('all-subscriptions').tBodies[0], [], 6, '—');
    showSubscriptionsNav({ status: '', user: '', after: '' }, null);
    return Promise.reject(error);
  }
  // A status being chosen (its list not asked for yet) is kept: a refresh put the one shown back, under the user's arrow keys.
  if (statusChoice === null) $('subs-status').value = query.status;
  if (document.activeElement !== $('subs-user')) $('subs-user').value = query.user;
  var path = '/subscriptions?limit=' + (SUBSCRIPTIONS_PAGE + 1) + (query.status ? '&status=' + query.status : '') +
    (query.user ? '&userId=' + encodeURIComponent(query.user) : '') + (query.after ? '&after=' + query.after : '');
  return Promise.all([api(path), schedulerStatus()]).then(function (got) {
    var body = got[0];
    if (currentRoute().view !== 'subscriptions' || currentRoute().id !== search) return;
    var shown = body.subscriptions.slice(0, SUBSCRIPTIONS_PAGE);
    var none = query.after ? 'No more.' : query.user ? 'No subscription of user ' + query.user + (query.status ? ' is ' + query.status : '') + '.' : query.status ? 'No subscription is ' + query.status + '.' : 'No subscription is enrolled yet.';
    replaceRows($('all-subscriptions').tBodies[0], shown.map(function (s) { return subscriptionListRow(s, got[1]); }), 6, none);
    showSubscriptionsNav(query, body.subscriptions.length > SUBSCRIPTIONS_PAGE ? shown[shown.length - 1].subscriptionId : null);
  });
}

/** The status filter's choice waiting to be loaded (a timer), or null. */
var statusChoice = null;

function wireSubscriptions() {
  var select = $('subs-status');
  STATUSES.forEach(function (s) { select.appendChild(el('option', { value: s }, s)); });
  var go = function () {
    clearTimeout(statusChoice);
    statusChoice = null;
    location.hash = subscriptionsHash({ status: select.value, user: $('subs-user').value.trim() });
  };
  // Arrowing through the statuses loads only the one it stops on, not a list per key pressed.
  select.addEventListener('change', function () {
    clearTimeout(statusChoice);
    statusChoice = setTimeout(go, 500);
  });
  $('subs-find').addEventListener('submit', function (event) { event.preventDefault(); go(); });
}
`
