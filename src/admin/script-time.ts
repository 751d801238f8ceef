/**
 * Times in the dashboard, always with their zone: `2027-03-01 09:00 CET`, plus the zone's name
 * where it is not the browser's (a subscription's own zone). Run times are in the browser's zone,
 * which the page names once in its header; every time element's title holds the UTC instant.
 */
export const SCRIPT_TIME = String.raw`
var BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
var dateFormats = {};
var zoneFormats = {};

function dateFormat(zone) {
  if (!dateFormats[zone]) {
    dateFormats[zone] = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
  }
  return dateFormats[zone];
}

function partsOf(date, zone) {
  var parts = {};
  dateFormat(zone).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
  return parts;
}

/** CET rather than GMT+1 where a locale knows a name; locales know different ones. */
function zoneAbbreviation(date, zone) {
  var names = ['en-US', 'en-GB'].map(function (locale) {
    var key = locale + ' ' + zone;
    if (!zoneFormats[key]) zoneFormats[key] = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
    var part = zoneFormats[key].formatToParts(date).find(function (p) { return p.type === 'timeZoneName'; });
    return part ? part.value : zone;
  });
  return names.find(function (name) { return !/^(GMT|UTC)[+\-\u2212]/.test(name); }) || names[0];
}

/** '2027-03-01 09:00 CET': the instant as a wall time in zone, with the zone's abbreviation (and its seconds, when asked). */
function wallTime(iso, zone, withSeconds) {
  if (!iso) return '—';
  var date = new Date(iso);
  var p = partsOf(date, zone);
  var seconds = withSeconds ? ':' + String(date.getUTCSeconds()).padStart(2, '0') : '';
  return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute + seconds + ' ' + zoneAbbreviation(date, zone);
}

/**
 * A subscription's next run: its time, and, once past, that it is due (the next sweep takes it)
 * or, paused, that it waits for a resume.
 */
function nextRunNode(iso, zone, status, withZoneName, retryAt) {
  if (!iso) return '—';
  var node = timeNode(iso, zone, withZoneName);
  if (new Date(iso).getTime() > serverNow()) return node;
  // A failed slot waits out its delay (retry.failedSlotDelaySeconds) before a sweep tries it again.
  if (status === 'failed' && retryAt && new Date(retryAt).getTime() > serverNow()) {
    return [node, el('span', { class: 'due' }, ['failed: a sweep tries it again after ', timeNode(retryAt, zone)])];
  }
  return [node, el('span', { class: 'due' }, status === 'paused' ? 'past: paused, it waits for a resume' : 'due now: the next sweep takes it')];
}

/** The time of day of an instant in the browser's zone, to the second: 21:41:05 CET. */
function clockTime(date) {
  var p = partsOf(date, BROWSER_ZONE);
  return p.hour + ':' + p.minute + ':' + String(date.getSeconds()).padStart(2, '0') + ' ' + zoneAbbreviation(date, BROWSER_ZONE);
}

/** A time element in zone (the browser's when omitted), titled with the UTC instant. */
function timeNode(iso, zone, withZoneName) {
  if (!iso) return '—';
  // Its name beside its abbreviation, unless they are one: "09:30 UTC", not "09:30 UTC (UTC)".
  var named = withZoneName && zone && zoneAbbreviation(new Date(iso), zone) !== zone;
  var text = wallTime(iso, zone || BROWSER_ZONE) + (named ? ' (' + zone + ')' : '');
  return el('time', { datetime: iso, title: new Date(iso).toISOString().replace('.000Z', 'Z') + ' (UTC)' }, text);
}

/** A run's time, in the browser's zone to the second: a per-minute cron's runs differ only there. */
function runTimeNode(iso) {
  if (!iso) return '—';
  return el('time', { datetime: iso, title: new Date(iso).toISOString().replace('.000Z', 'Z') + ' (UTC)' }, wallTime(iso, BROWSER_ZONE, true));
}

/** The calendar day of an instant in zone, as YYYY-MM-DD. */
function dayKey(date, zone) {
  var p = partsOf(date, zone);
  return p.year + '-' + p.month + '-' + p.day;
}

/** The last n calendar days in zone, oldest first, today last. */
function lastDays(n, zone) {
  var today = dayKey(new Date(serverNow()), zone).split('-').map(Number);
  var days = [];
  for (var i = n - 1; i >= 0; i--) days.push(new Date(Date.UTC(today[0], today[1] - 1, today[2] - i)).toISOString().slice(0, 10));
  return days;
}

function relative(iso) {
  var minutes = Math.round((new Date(iso).getTime() - serverNow()) / 60000);
  if (minutes < 0) return Math.abs(minutes) + ' min ago';
  if (minutes < 1) return 'in under a minute';
  if (minutes < 60) return 'in ' + minutes + ' min';
  var hours = Math.floor(minutes / 60);
  if (hours < 48) return 'in ' + hours + ' h ' + (minutes % 60) + ' min';
  return 'in ' + Math.round(hours / 24) + ' days';
}
`
