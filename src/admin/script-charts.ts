/**
 * The overview's two charts, drawn as inline SVG (no library, nothing fetched): subscriptions
 * called (succeeded or failed; not those let go uncalled) and failed per day over the last 14
 * days, counted in the browser from `/runs`; and fire lateness (p50, p95) of the recent runs.
 * The run list is fetched at most once a minute.
 */
export const SCRIPT_CHARTS = String.raw`
var CHART_DAYS = 14;
var CHART_RUNS = 1000;
var LATENESS_RUNS = 30;
var CHART_REFRESH_MS = 60000;
var chartsLoadedAt = 0;
var W = 420, H = 170, LEFT = 36, RIGHT = 6, TOP = 12, BOTTOM = 22;
var PLOT_W = W - LEFT - RIGHT, PLOT_H = H - TOP - BOTTOM;

function chartFrame(label, maxLabel) {
  return svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label },
    svg('line', { class: 'axis', x1: LEFT, y1: TOP + PLOT_H, x2: W - RIGHT, y2: TOP + PLOT_H }),
    svg('line', { class: 'axis', x1: LEFT, y1: TOP, x2: LEFT, y2: TOP + PLOT_H }),
    // Inside the plot, from its left edge: a long maximum ("4 min 51 s") would not fit beside it.
    svg('text', { class: 'max-label', x: LEFT + 4, y: TOP + 4, 'text-anchor': 'start' }, maxLabel),
    svg('text', { x: LEFT - 5, y: TOP + PLOT_H, 'text-anchor': 'end' }, '0'));
}

function yOf(value, max) { return TOP + PLOT_H - (value / max) * PLOT_H; }

function drawDays(runs) {
  var days = lastDays(CHART_DAYS, BROWSER_ZONE);
  var totals = {};
  days.forEach(function (day) { totals[day] = { called: 0, failed: 0 }; });
  runs.forEach(function (run) {
    var total = totals[dayKey(new Date(run.startedAt), BROWSER_ZONE)];
    // Called: a row let go uncalled (calls paused, inactive) counts in a run's processed, not here.
    if (total) { total.called += run.successful + run.failed; total.failed += run.failed; }
  });
  var max = Math.max.apply(null, [1].concat(days.map(function (d) { return Math.max(totals[d].called, totals[d].failed); })));
  var chart = chartFrame('Subscriptions called and failed per day, last ' + CHART_DAYS + ' days', max);
  var slot = PLOT_W / CHART_DAYS;
  days.forEach(function (day, i) {
    var t = totals[day];
    var x = LEFT + i * slot;
    var bar = function (kind, value, offset) {
      var h = (value / max) * PLOT_H;
      return svg('rect', { class: 'bar-' + kind, 'data-value': value, x: (x + offset).toFixed(1), y: (TOP + PLOT_H - h).toFixed(1), width: (slot * 0.36).toFixed(1), height: h.toFixed(1) });
    };
    chart.append(svg('g', { 'data-day': day },
      svg('title', {}, day + ': ' + t.called + ' called, ' + t.failed + ' of them failed'),
      bar('processed', t.called, slot * 0.12), bar('failed', t.failed, slot * 0.5)));
    if (i % 3 === 1 || i === CHART_DAYS - 1) chart.append(svg('text', { x: (x + slot / 2).toFixed(1), y: H - 5, 'text-anchor': 'middle' }, day.slice(5)));
  });
  var oldest = runs.length ? runs[runs.length - 1].startedAt : null;
  var partial = runs.length >= CHART_RUNS && oldest && dayKey(new Date(oldest), BROWSER_ZONE) >= days[0];
  $('days-note').textContent = 'Days in ' + BROWSER_ZONE + (partial ? '; from the last ' + CHART_RUNS + ' runs only, since ' + wallTime(oldest, BROWSER_ZONE) : '') + '.';
  $('chart-days').replaceChildren(chart);
}

function drawLateness(runs) {
  var recent = runs.slice(0, LATENESS_RUNS).reverse();
  var values = [];
  recent.forEach(function (run) { values.push(run.latenessP50Ms, run.latenessP95Ms); });
  var known = values.filter(function (v) { return v != null; });
  if (!known.length) {
    var empty = chartFrame('Fire lateness per run: none recorded yet', '');
    empty.append(svg('text', { class: 'empty-state', x: LEFT + PLOT_W / 2, y: TOP + PLOT_H / 2, 'text-anchor': 'middle' }, 'No fire lateness recorded yet'));
    return $('chart-lateness').replaceChildren(empty);
  }
  var max = Math.max(1, Math.max.apply(null, known));
  var chart = chartFrame('Fire lateness p50 and p95 of the last ' + recent.length + ' runs', duration(max));
  var step = recent.length > 1 ? PLOT_W / (recent.length - 1) : 0;
  ['p50', 'p95'].forEach(function (series) {
    var field = series === 'p50' ? 'latenessP50Ms' : 'latenessP95Ms';
    var points = [];
    var dots = [];
    recent.forEach(function (run, i) {
      var value = run[field];
      if (value == null) return;
      var x = (LEFT + (recent.length > 1 ? i * step : PLOT_W / 2)).toFixed(1);
      var y = yOf(value, max).toFixed(1);
      points.push(x + ',' + y);
      dots.push(svg('circle', { class: 'pt-' + series, cx: x, cy: y, r: 2.5, 'data-run-id': run.runId, 'data-value': value },
        svg('title', {}, wallTime(run.startedAt, BROWSER_ZONE) + ': ' + series + ' ' + duration(value))));
    });
    chart.append(svg('polyline', { class: 'line-' + series, points: points.join(' ') }));
    dots.forEach(function (dot) { chart.append(dot); });
  });
  $('chart-lateness').replaceChildren(chart);
}

function loadCharts(force) {
  if (!force && Date.now() - chartsLoadedAt < CHART_REFRESH_MS) return Promise.resolve();
  return api('/runs?limit=' + CHART_RUNS).then(function (body) {
    chartsLoadedAt = Date.now();
    drawDays(body.runs);
    drawLateness(body.runs);
  });
}
`
