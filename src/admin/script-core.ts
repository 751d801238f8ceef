/**
 * The dashboard script's shared helpers: DOM building (text nodes and attributes only, never
 * markup), the API client, links between views, and small formatters. Plain ES2020, kept as a
 * string so that no bundler helper can leak into the inlined page; see dashboard-script.ts.
 */
export const SCRIPT_CORE = String.raw`
var base = document.body.getAttribute('data-base') || '';
// Rendered by the server from the library's list: the script keeps no copy of its own.
var STATUSES = JSON.parse(document.body.getAttribute('data-statuses') || '[]');
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Set by the first 401: the session is over, and the page stops asking (a reload signs in).
var signedOut = false;
// The scheduler's clock minus the browser's, from the last answer: a laptop's clock off by an hour
// would say a report seen 5 minutes ago was seen "0 s ago".
var clockOffsetMs = 0;

/** Now by the scheduler's clock (the database's), as far as the last answer told. */
function serverNow() { return Date.now() + clockOffsetMs; }
var SVG_NS = 'http://www.w3.org/2000/svg';

function $(id) { return document.getElementById(id); }

function append(node, children) {
  for (var i = 0; i < children.length; i++) {
    var child = children[i];
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(child == null ? '' : String(child)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (var name in attrs || {}) if (attrs[name] != null && attrs[name] !== false) node.setAttribute(name, String(attrs[name]));
  return node;
}

function el(tag, attrs) {
  return append(setAttributes(document.createElement(tag), attrs), Array.prototype.slice.call(arguments, 2));
}

function svg(tag, attrs) {
  return append(setAttributes(document.createElementNS(SVG_NS, tag), attrs), Array.prototype.slice.call(arguments, 2));
}

/** Shows a message under the header; parts are strings or nodes (such as a link to a run). */
function notice(parts, isError) {
  var box = $('notice');
  box.replaceChildren();
  append(box, [parts]);
  box.className = isError ? 'error' : '';
  box.removeAttribute('data-load-error');
}

/**
 * A form's own check refused what a field holds: said in the notice, which the field names as its
 * description, marked invalid, and given focus to be fixed; cleared once it is edited. Said only
 * in the notice, a screen reader's user heard nothing tie it to the field.
 */
function fieldError(input, message) {
  notice(message, true);
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', 'notice');
  input.focus();
  input.addEventListener('input', function () {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }, { once: true });
}

function api(path, options) {
  options = options || {};
  var headers = { 'Accept': 'application/json', 'X-Requested-With': 'pss-dashboard' };
  if (options.json !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(base + path, {
    method: options.method || 'GET',
    credentials: 'same-origin',
    headers: headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
  }).catch(function (failed) {
    // No answer at all: the server is down or out of reach ("Failed to fetch" says only that).
    var error = new Error('No answer from the server (' + failed.message + '): is it running, and reachable?');
    error.unanswered = true;
    throw error;
  }).then(function (response) {
    var now = Number(response.headers.get('x-pss-now'));
    // Stamped as the answer left, after the work it took: read against its arrival.
    if (now > 0) clockOffsetMs = now - Date.now();
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (response.ok) return body;
      var message = (body && body.error && body.error.message) || ('HTTP ' + response.status);
      if (response.status === 401) {
        signedOut = true;
        message = 'Signed out (the session ended): reload the page to sign in again.';
      }
      var error = new Error(message);
      error.status = response.status;
      // A proxy in front answering for a server behind it that is gone.
      error.unanswered = response.status === 502 || response.status === 504;
      throw error;
    });
  });
}

function subscriptionLink(id) {
  return el('a', { href: '#/subscriptions/' + encodeURIComponent(id), class: 'mono', 'data-subscription-link': id }, id);
}

function runLink(id, text) {
  return el('a', { href: '#/runs/' + encodeURIComponent(id), 'data-run-link': id, title: id }, text == null ? id : text);
}

/** A run id cut to its first block, visibly, with the whole id as the title and the link. */
function shortRunLink(id) {
  return id ? runLink(id, id.slice(0, 8) + '…') : '—';
}

/**
 * A worker's error in a table of many rows: a long one (a body of hundreds of characters) shows
 * its start, and the rest on a click, so that one row is not a screen tall. A subscription's own
 * page shows its errors whole.
 */
var ERROR_SHOWN = 160;
function errorCell(text) {
  text = String(text);
  if (text.length <= ERROR_SHOWN + 40) return el('td', { class: 'err' }, text);
  return el('td', { class: 'err' }, el('details', {},
    el('summary', {}, text.slice(0, ERROR_SHOWN), el('span', { class: 'more' }, '… (all ' + text.length + ' characters)')),
    el('div', { class: 'err-rest' }, text.slice(ERROR_SHOWN))));
}

function replaceRows(tbody, rows, columns, emptyText) {
  tbody.replaceChildren.apply(tbody, rows.length ? rows : [el('tr', {}, el('td', { colspan: String(columns), class: 'empty' }, emptyText))]);
}

function pill(kind, text, title) {
  return el('span', { class: 'pill ' + kind, title: title }, text);
}

var STATUS_PILLS = { completed: 'ok', failed: 'bad', paused: 'warn', processing: 'run', queued: 'run', ended: 'idle' };

function statusPill(status, pausedReason) {
  var text = status === 'paused' && pausedReason ? 'paused (' + pausedReason + ')' : status;
  return pill(STATUS_PILLS[status] || '', text);
}

function outcomePill(final) {
  return final ? pill('bad', 'failed') : pill('warn', 'will retry');
}

function runState(run) {
  if (run.error) return pill('bad', 'error', run.error);
  if (!run.finishedAt) return pill('run', 'running');
  if (run.failed > 0) return pill('warn', run.failed + ' failed');
  return pill('ok', 'ok');
}

function duration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

function orDash(value) {
  return value == null || value === '' ? '—' : value;
}

/**
 * Enables a button when its action applies to what is shown (unless it is busy); when it does
 * not, \`why\` says so in the button's tooltip.
 */
function setAvailable(button, yes, why) {
  button.toggleAttribute('data-unavailable', !yes);
  if (!yes && why) button.setAttribute('title', why);
  else button.removeAttribute('title');
  if (!button.hasAttribute('aria-busy')) button.disabled = !yes;
}

/** Runs a button's action once at a time, keeping the button disabled meanwhile. */
function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  return Promise.resolve().then(work).finally(function () {
    button.removeAttribute('aria-busy');
    button.disabled = button.hasAttribute('data-unavailable');
  });
}
`
