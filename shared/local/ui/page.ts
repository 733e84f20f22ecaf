/**
 * The `weir dev --ui` page: one static HTML document, inline CSS and a small vanilla script
 * that renders each snapshot pushed over Server-Sent Events (`/events`). No build step.
 * Elements carry `data-*` attributes (stage, topic, partition, field) that the tests read.
 */

/** Placeholder lines under each stage's label in the graph; the script writes live figures over them. */
export const STAGE_NOTE_PLACEHOLDERS = ['in 00000.0/s  out 00000.0/s', '000000 invocations  0000 errors  00000 ms'] as const;

const CSS = `
:root { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; }
body { margin: 0; background: #fafbfc; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .8em 1.5em; background: #24292f; color: #fff; }
header h1 { font-size: 1.15em; margin: 0; }
header .meta { color: #c9d1d9; font-size: .9em; }
#status { margin-left: auto; font-size: .9em; }
#status.live::before { content: "\\25CF "; color: #3fb950; }
#status.down::before { content: "\\25CF "; color: #f85149; }
main { padding: 1em 1.5em 3em; max-width: 1400px; }
section { margin-top: 1.4em; }
h2 { font-size: 1em; margin: 0 0 .4em; text-transform: uppercase; letter-spacing: .04em; color: #57606a; }
#graph { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .5em; overflow-x: auto; }
#graph svg { max-width: 100%; height: auto; }
#graph g.cluster.failing > path, #graph g.cluster.failing > polygon { stroke: #cf222e; stroke-width: 2; }
table { border-collapse: collapse; background: #fff; border: 1px solid #d0d7de; }
th, td { padding: .3em .7em; border-bottom: 1px solid #eaeef2; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; color: #57606a; font-size: .85em; }
td.text, th.text { text-align: left; }
td.value { text-align: left; white-space: normal; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; max-width: 40em; overflow-wrap: anywhere; }
tr.lagging td[data-field="lag"] { color: #9a6700; font-weight: 600; }
td.bad { color: #cf222e; font-weight: 600; }
.row { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .6em 1em; min-width: 14em; }
.card .big { font-size: 1.6em; font-weight: 600; }
.muted { color: #57606a; font-size: .85em; }
#problems { display: none; background: #fff8c5; border: 1px solid #d4a72c; padding: .5em 1em; border-radius: 6px; }
#problems.shown { display: block; }
footer { color: #57606a; font-size: .85em; max-width: 60em; }
`;

// Plain ES2017 without template literals, so it can sit in this file's template string.
const SCRIPT = `
(function () {
  var fmt = function (n) { return typeof n === 'number' ? n.toLocaleString('en-US') : String(n); };
  var time = function (ms) { return new Date(ms).toISOString().replace('T', ' ').replace('Z', ''); };
  var wm = function (w) { return w === '-inf' ? '-\\u221e (nothing yet)' : w === '+inf' ? '+\\u221e (input ended)' : time(w); };
  var ms = function (x) { return x === undefined ? '\\u2013' : fmt(x) + ' ms'; };
  var el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  var cell = function (field, text, cls) { return el('td', cls ? { 'data-field': field, 'class': cls } : { 'data-field': field }, text); };
  var fill = function (id, rows) { var b = document.querySelector('#' + id + ' tbody'); b.replaceChildren.apply(b, rows); };
  var updates = 0;

  function graph(s) {
    document.querySelectorAll('#graph g.cluster').forEach(function (g) {
      var title = g.querySelector('title');
      var st = s.stages.find(function (x) { return title && title.textContent === 'cluster_' + x.id; });
      if (!st) return;
      var texts = g.querySelectorAll(':scope > text');
      if (texts[1]) texts[1].textContent = 'in ' + fmt(st.inPerSec) + '/s  out ' + fmt(st.outPerSec) + '/s';
      if (texts[2]) texts[2].textContent = fmt(st.invocations) + ' invocations  ' + fmt(st.errors) + ' errors  ' + ms(st.meanBatchMs);
      g.classList.toggle('failing', st.errors > 0);
    });
  }

  function render(s) {
    updates++;
    var status = document.getElementById('status');
    status.className = 'live';
    status.textContent = 'live, updated ' + new Date(s.at).toLocaleTimeString();
    status.setAttribute('data-updates', String(updates));
    document.getElementById('uptime').textContent = 'up ' + Math.round((s.at - s.startedAt) / 1000) + ' s';
    var pr = document.getElementById('problems');
    pr.className = s.problems.length ? 'shown' : '';
    pr.textContent = s.problems.join(' \\u2014 ');
    graph(s);
    fill('stages', s.stages.map(function (x) {
      var tr = el('tr', { 'data-stage': x.id });
      tr.append(el('td', { 'class': 'text', 'data-field': 'stage' }, x.id + (x.keyed ? ' (keyed)' : '')), el('td', { 'class': 'text', 'data-field': 'input' }, x.inputTopics.join(', ')),
        cell('inPerSec', fmt(x.inPerSec)), cell('outPerSec', fmt(x.outPerSec)), cell('recordsIn', fmt(x.recordsIn)), cell('recordsOut', fmt(x.recordsOut)),
        cell('invocations', fmt(x.invocations)), cell('controlInvocations', fmt(x.controlInvocations)), cell('errors', fmt(x.errors), x.errors ? 'bad' : ''),
        cell('lastBatchMs', ms(x.lastBatchMs)), cell('meanBatchMs', ms(x.meanBatchMs)), cell('lateRecords', fmt(x.lateRecords)), cell('dlqRecords', fmt(x.dlqRecords)), cell('windowsFired', fmt(x.windowsFired)));
      if (x.lastError) tr.title = 'last error: ' + x.lastError;
      return tr;
    }));
    fill('partitions', s.partitions.map(function (x) {
      var tr = el('tr', { 'data-stage': x.stage, 'data-topic': x.topic, 'data-partition': String(x.partition), 'class': x.lag ? 'lagging' : '' });
      var w = cell('watermark', wm(x.watermark) + (x.idle ? ' (idle)' : ''), 'text');
      w.title = String(x.watermark);
      tr.append(el('td', { 'class': 'text', 'data-field': 'stage' }, x.stage), el('td', { 'class': 'text', 'data-field': 'topic' }, x.topic), cell('partition', String(x.partition)),
        cell('endOffset', fmt(x.endOffset)), cell('committed', x.committed < 0 ? '\\u2013' : fmt(x.committed)), cell('lag', fmt(x.lag)), w);
      return tr;
    }));
    var w = s.windows;
    document.querySelector('#windows [data-field="open"]').textContent = fmt(w.open) + (w.truncated ? '+' : '');
    document.querySelector('#windows [data-field="keys"]').textContent = fmt(w.keys) + (w.truncated ? '+' : '');
    document.querySelector('#windows [data-field="next"]').textContent = w.next
      ? 'key "' + w.next.key + '" [' + time(w.next.start) + ', ' + time(w.next.end) + ') in ' + w.next.stage + ' partition ' + w.next.partition + ' (' + w.next.operator + ')'
      : 'none open';
    document.querySelector('#windows [data-field="firesAt"]').textContent = w.next ? 'fires when the watermark reaches ' + time(w.next.firesAt) : '';
    var outs = [{ kind: 'dead letters', t: s.dlq }].concat(s.late.map(function (t) { return { kind: 'late', t: t }; }), s.sinks.map(function (t) { return { kind: 'sink', t: t }; }));
    fill('outputs', outs.map(function (o) {
      var tr = el('tr', { 'data-topic': o.t.topic, 'data-kind': o.kind });
      tr.append(el('td', { 'class': 'text' }, o.kind), el('td', { 'class': 'text', 'data-field': 'topic' }, o.t.topic), cell('records', fmt(o.t.records), o.kind !== 'sink' && o.t.records ? 'bad' : ''));
      return tr;
    }));
    fill('results', s.results.map(function (r) {
      var tr = el('tr', { 'data-topic': r.topic, 'data-partition': String(r.partition), 'data-offset': String(r.offset) });
      tr.append(el('td', { 'class': 'text', 'data-field': 'time' }, time(r.timestamp)), el('td', { 'class': 'text', 'data-field': 'topic' }, r.topic),
        cell('position', r.partition + '/' + r.offset), el('td', { 'class': 'text', 'data-field': 'key' }, r.key === null ? '' : r.key), el('td', { 'class': 'value', 'data-field': 'value' }, r.value === null ? '' : r.value));
      return tr;
    }));
  }

  var source = new EventSource('events');
  source.onmessage = function (e) { render(JSON.parse(e.data)); };
  source.onerror = function () {
    var status = document.getElementById('status');
    status.className = 'down';
    status.textContent = 'disconnected: is weir dev still running? (retrying)';
  };
})();
`;

/** A table head; `<` before a name makes the column left-aligned (text). */
const head = (cells: ReadonlyArray<readonly [string, string?]>): string =>
  `<thead><tr>${cells.map(([t, title]) => `<th${t.startsWith('<') ? ' class="text"' : ''}${title ? ` title="${title}"` : ''}>${t.replace(/^</, '')}</th>`).join('')}</tr></thead>`;

export function renderPage(pipeline: string, svg: string): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  // Strip the XML prolog and doctype Graphviz writes: the SVG goes inline.
  const inlineSvg = svg.slice(Math.max(0, svg.indexOf('<svg')));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>weir dev: ${esc(pipeline)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<header><h1>weir dev: ${esc(pipeline)}</h1><span class="meta" id="uptime"></span><span id="status">connecting...</span></header>
<main>
<div id="problems"></div>
<section><h2>Stage graph</h2><div id="graph">${inlineSvg}</div></section>
<section><h2>Stages (one Lambda each)</h2>
<table id="stages">${head([['<stage'], ['<input'], ['in/s', 'data records per second over the last 5 s'], ['out/s', 'records written per second, watermark markers included'], ['records in'], ['records out', 'watermark markers included'], ['invocations', 'batch invocations, retries included'], ['ticks', 'ticker invocations'], ['errors', 'failed invocations (each is retried)'], ['last batch'], ['mean batch', 'over the last 5 s'], ['late'], ['DLQ'], ['windows fired']])}<tbody></tbody></table></section>
<section><h2>Partitions</h2>
<table id="partitions">${head([['<stage'], ['<input topic'], ['partition'], ['end offset'], ['committed'], ['lag', 'end offset minus the committed offset of the stage\'s consumer group'], ['<watermark', 'what the partition last sent downstream, from its progress record']])}<tbody></tbody></table></section>
<section class="row">
<div class="card" id="windows"><h2>Windows</h2><div><span class="big" data-field="open">0</span> open <span class="muted">(not fired yet)</span></div>
<div class="muted"><span data-field="keys">0</span> keys stored</div>
<div style="margin-top:.5em">next to fire: <span data-field="next">none open</span></div><div class="muted" data-field="firesAt"></div></div>
<div><h2>Outputs</h2><table id="outputs">${head([['<kind'], ['<topic'], ['records']])}<tbody></tbody></table></div>
</section>
<section><h2>Recent window results (the sink topics, newest first)</h2>
<table id="results">${head([['<timestamp'], ['<topic'], ['partition/offset'], ['<key'], ['<value']])}<tbody></tbody></table></section>
<footer><p>How the figures are gathered: per stage, from every invocation the MSK trigger emulator makes (records in, records written, duration, errors).
Lag: each stage's consumer group's committed offsets against the topics' end offsets. Watermarks: each partition's progress record in DynamoDB.
Open windows and the next to fire: the keyed state items in DynamoDB (one scan per refresh; fine for a dev stack).
Dead-letter, late and sink counts: end offsets of those topics. Window results: a consumer of the sink topics. Kafka and DynamoDB are read once a second.</p></footer>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
