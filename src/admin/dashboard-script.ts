/**
 * The dashboard's script, inlined into the page under its CSP nonce. Plain ES2020, kept as a
 * string so that no bundler helper can leak into it. Every value from the server reaches the
 * DOM as a text node or through setAttribute, never as markup. It sends `X-Requested-With`,
 * which the API requires of cookie-authenticated requests that change state.
 */
export const DASHBOARD_SCRIPT = String.raw`
'use strict';
(function () {
  var base = document.body.getAttribute('data-base') || '';
  var STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed', 'paused', 'inactive'];
  var REFRESH_MS = 3000;
  var loading = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? '' : String(child)));
    }
    return node;
  }

  function notice(text, isError) {
    var box = $('notice');
    box.textContent = text;
    box.className = isError ? 'error' : '';
  }

  function api(path, method) {
    return fetch(base + path, {
      method: method || 'GET',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-Requested-With': 'pss-dashboard' },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) return body;
        var message = (body && body.error && body.error.message) || ('HTTP ' + response.status);
        if (response.status === 401) message = 'Signed out (the session ended): reload the page to sign in again.';
        throw new Error(message);
      });
    });
  }

  function duration(ms) {
    if (ms == null) return '…';
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : '—';
  }

  function relative(iso) {
    var minutes = Math.round((new Date(iso).getTime() - Date.now()) / 60000);
    if (minutes < 1) return 'in under a minute';
    if (minutes < 60) return 'in ' + minutes + ' min';
    var hours = Math.floor(minutes / 60);
    return 'in ' + hours + ' h ' + (minutes % 60) + ' min';
  }

  function replaceRows(tbody, rows, columns, emptyText) {
    tbody.replaceChildren.apply(tbody, rows.length ? rows : [el('tr', {}, el('td', { colspan: String(columns), class: 'empty' }, emptyText))]);
  }

  function renderCounts(status) {
    var cards = STATUSES.concat(Object.keys(status.counts).filter(function (s) { return STATUSES.indexOf(s) < 0; }))
      .map(function (s) {
        return el('div', { class: 'card', 'data-status': s },
          el('div', { class: 'label' }, el('span', { class: 'dot s-' + s }), s),
          el('div', { class: 'n' }, status.counts[s] || 0));
      });
    cards.push(el('div', { class: 'card', 'data-status': 'total' }, el('div', { class: 'label' }, 'total'), el('div', { class: 'n' }, status.total)));
    $('counts').replaceChildren.apply($('counts'), cards);
    $('next-fire').textContent = when(status.nextFireAt) + ' (' + relative(status.nextFireAt) + ')';
    $('next-fire').setAttribute('title', status.nextFireAt);
    $('due').textContent = String(status.due);
    $('queue').textContent = status.queue.waiting + ' waiting, ' + status.queue.active + ' taken by instances';
  }

  function runState(run) {
    if (run.error) return el('span', { class: 'pill bad', title: run.error }, 'error');
    if (!run.finishedAt) return el('span', { class: 'pill run' }, 'running');
    if (run.failed > 0) return el('span', { class: 'pill warn' }, run.failed + ' failed');
    return el('span', { class: 'pill ok' }, 'ok');
  }

  function renderRuns(runs) {
    replaceRows($('runs').tBodies[0], runs.map(function (run) {
      return el('tr', { 'data-run-id': run.runId },
        el('td', { title: run.runId }, when(run.startedAt)), el('td', {}, run.trigger), el('td', {}, runState(run)),
        el('td', { class: 'num' }, duration(run.durationMs)), el('td', { class: 'num' }, run.processed),
        el('td', { class: 'num' }, run.successful), el('td', { class: 'num' }, run.failed),
        el('td', { class: 'num' }, run.retried), el('td', { class: 'num' }, run.skipped));
    }), 9, 'No runs yet.');
  }

  function renderFailures(failures) {
    replaceRows($('failures').tBodies[0], failures.map(function (f) {
      return el('tr', { 'data-subscription-id': f.subscriptionId },
        el('td', {}, when(f.failedAt)), el('td', { class: 'mono', title: f.subscriptionId }, f.subscriptionId.slice(0, 8) + '…'),
        el('td', { class: 'num' }, f.attempt),
        el('td', {}, f.final ? el('span', { class: 'pill bad' }, 'failed') : el('span', { class: 'pill warn' }, 'will retry')),
        el('td', { class: 'err' }, f.error));
    }), 5, 'No failures recorded.');
  }

  function refresh() {
    if (loading) return loading;
    loading = api('/dashboard.json').then(function (data) {
      renderCounts(data.status);
      renderRuns(data.runs);
      renderFailures(data.failures);
      $('updated').textContent = new Date().toLocaleTimeString();
      if ($('notice').className === 'error') notice('');
    }).catch(function (error) {
      notice(error.message, true);
    }).finally(function () {
      loading = null;
    });
    return loading;
  }

  function action(button, path, label) {
    button.addEventListener('click', function () {
      button.disabled = true;
      api(path, 'POST').then(function (body) {
        notice(label + ' started: run ' + body.runId + '.');
      }).catch(function (error) {
        notice(label + ' failed: ' + error.message, true);
      }).finally(function () {
        button.disabled = false;
        (loading || Promise.resolve()).then(refresh);
      });
    });
  }

  action($('run-now'), '/process-subscriptions?wait=false', 'Run');
  action($('retry-failed'), '/failed/retry?wait=false', 'Retry of failed subscriptions');
  setInterval(function () { if (!document.hidden) refresh(); }, REFRESH_MS);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
  refresh();
})();
`
