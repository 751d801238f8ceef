/**
 * The overview's instances table (`dashboard.json`'s `instances`): each instance of the scheduler
 * as it reports itself every 15 s, its host, process, version and role, its calls, its circuit
 * breaker, and whether it runs, stopped, or went silent without a stop (killed, or cut off from the
 * database). The instance serving the page is marked.
 */
export const SCRIPT_INSTANCES = String.raw`
var INSTANCE_PILLS = {
  running: ['ok', 'Reported within the last minute.'],
  stopped: ['idle', 'Its stop() finished.'],
  silent: ['bad', 'No report for over a minute, and no stop: killed, frozen, or cut off from the database.'],
};

function instanceRole(i) {
  var parts = [];
  if (i.schedules) parts.push('schedules');
  if (i.works) parts.push('calls the worker, ' + i.concurrency + ' at once');
  if (i.works && i.maxConcurrentCalls != null) parts.push('maxConcurrentCalls ' + i.maxConcurrentCalls);
  if (i.works && i.maxCallsPerSecond != null) parts.push('maxCallsPerSecond ' + i.maxCallsPerSecond);
  return parts.length ? parts.join(', ') : 'steers only';
}

/** Its state, and while it runs its calls at its last report (none when it calls no worker, or runs an older version). */
function stateCell(i) {
  var state = INSTANCE_PILLS[i.state] || ['', ''];
  var nodes = [pill(state[0], i.state, state[1])];
  if (i.calls && i.state === 'running') nodes.push(el('small', { class: 'calls' }, i.calls.inFlight + ' in flight, ' + i.calls.waiting + ' waiting'));
  return nodes;
}

function breakerText(breaker) {
  if (!breaker) return '—';
  if (breaker.state === 'open') return ['open until ', timeNode(breaker.until)];
  return breaker.state;
}

/** How long ago, by the scheduler's clock: '12 s ago', '3 min ago', '5 h ago'. */
function ago(iso) {
  var seconds = Math.max(0, Math.round((serverNow() - new Date(iso).getTime()) / 1000));
  var text = seconds < 60 ? seconds + ' s ago' : seconds < 3600 ? Math.floor(seconds / 60) + ' min ago' : Math.floor(seconds / 3600) + ' h ago';
  return el('time', { datetime: iso, title: iso }, text);
}

function renderInstances(instances, serving) {
  replaceRows($('instances').tBodies[0], instances.map(function (i) {
    var host = i.instanceId === serving.instanceId ? [i.host, el('small', { class: 'serving' }, ' serving this page')] : i.host;
    return el('tr', { 'data-instance-id': i.instanceId },
      el('td', {}, host), el('td', { class: 'num' }, i.pid), el('td', {}, i.version), el('td', {}, instanceRole(i)),
      el('td', {}, stateCell(i)), el('td', {}, breakerText(i.breaker)),
      el('td', {}, timeNode(i.startedAt)), el('td', {}, ago(i.seenAt)));
  }), 8, 'No instance has reported: none is started, or all run a version from before instances reported themselves.');
}
`
