// relayprobe serve: the web page. Plain DOM, no libraries, no build step.
// Every string that came from the server (banners, replies, certificate
// fields, targets) is inserted with textContent / text nodes only, never
// as HTML: el() below is the only way this file builds elements, and it
// has no way to set innerHTML or event-handler attributes.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const ID_RE = /^[0-9a-f]{32}$/;

  // el('div', {className: 'x'}, 'text', child, ...): text becomes text nodes.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null) continue;
        if (k === 'className') e.className = v;
        else if (k === 'href') {
          // Only links we build to our own pages.
          if (typeof v === 'string' && /^\/r\/[0-9a-f]{32}$/.test(v)) e.setAttribute('href', v);
        } else if (k === 'dataset') Object.assign(e.dataset, v);
        else if (k === 'open') e.open = !!v;
        else if (k === 'title') e.title = String(v);
        else throw new Error('el: unsupported property ' + k);
      }
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function setStatus(text, isError) {
    const s = $('status');
    s.textContent = text || '';
    s.className = isError ? 'error' : '';
  }

  function fmtTime(unix) {
    if (typeof unix !== 'number') return '';
    return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  }

  function fmtMs(ms) {
    return typeof ms === 'number' ? (ms / 1000).toFixed(1) + ' s' : '';
  }

  async function api(path, opts) {
    const r = await fetch(path, Object.assign({ headers: { 'Accept': 'application/json' } }, opts || {}));
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : ('HTTP ' + r.status);
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  // ---- live transcript (server-sent events) ----
  let source = null;
  let lineCount = 0;
  const MAX_LINES = 5000;

  function addLine(kind, server, text) {
    const t = $('transcript');
    if (lineCount >= MAX_LINES) return;
    lineCount++;
    const cls = kind === 'C' ? 'line C' : kind === 'S' ? 'line S' : 'line note';
    const dir = kind === 'C' ? 'C:' : kind === 'S' ? 'S:' : '*';
    const stick = t.scrollTop + t.clientHeight >= t.scrollHeight - 30;
    t.appendChild(el('div', { className: cls },
      server ? el('span', { className: 'srv' }, server) : null,
      el('span', { className: 'dir' }, dir), text));
    if (stick) t.scrollTop = t.scrollHeight;
  }

  function serverName(d) {
    if (!d || typeof d.address !== 'string') return '';
    return (d.address.indexOf(':') >= 0 ? '[' + d.address + ']' : d.address) + ':' + d.port;
  }

  function parse(ev) {
    try { return JSON.parse(ev.data); } catch (e) { return null; }
  }

  function watch(id) {
    if (source) source.close();
    clear($('transcript'));
    lineCount = 0;
    $('live').hidden = false;
    $('result').hidden = true;
    $('live-state').textContent = '(connecting)';
    setStatus('Testing…');
    let multi = false;
    const seen = new Set();
    source = new EventSource('/api/v1/checks/' + id + '/events');
    source.addEventListener('queued', (ev) => {
      const d = parse(ev);
      $('live-state').textContent = '(waiting for a free slot' + (d && d.position ? ', position ' + d.position : '') + ')';
    });
    source.addEventListener('started', () => { $('live-state').textContent = '(running)'; });
    source.addEventListener('server', (ev) => {
      const d = parse(ev);
      const name = serverName(d);
      seen.add(name);
      multi = seen.size > 1;
      $('live-state').textContent = '(running)';
      addLine('*', '', 'testing ' + name + (d && d.host ? ' (' + d.host + ')' : ''));
    });
    source.addEventListener('line', (ev) => {
      const d = parse(ev);
      if (!d) return;
      addLine(d.dir, multi ? serverName(d) : '', d.line);
    });
    source.addEventListener('server_done', (ev) => {
      const d = parse(ev);
      if (d) addLine('*', '', serverName(d) + ': ' + d.verdict + (d.error ? ' (' + d.error + ')' : ''));
    });
    source.addEventListener('truncated', () => addLine('*', '', '(transcript too long: the rest is in the result)'));
    source.addEventListener('done', () => {
      source.close();
      source = null;
      $('live-state').textContent = '(finished)';
      load(id, false);
    });
    source.onerror = () => {
      // The stream broke (proxy timeout, server restart): fall back to
      // asking for the result until it is there.
      if (!source) return;
      source.close();
      source = null;
      $('live-state').textContent = '(stream lost; waiting for the result)';
      setTimeout(() => load(id, false), 2000);
    };
  }

  // ---- result ----
  function badge(text, cls) { return el('span', { className: 'badge ' + (cls || text) }, text); }

  function facts(pairs) {
    const dl = el('dl', { className: 'facts' });
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === '') continue;
      dl.appendChild(el('dt', null, k));
      dl.appendChild(el('dd', null, v instanceof Node ? v : String(v)));
    }
    return dl;
  }

  function replyText(r) {
    if (!r) return '';
    return [r.code, r.enhanced, r.text].filter((x) => x !== null && x !== undefined && x !== '').join(' ');
  }

  function renderTests(s) {
    const rows = [];
    for (const t of (s.controls || []).concat(s.tests || [])) {
      if (t.superseded) continue;
      rows.push(el('tr', null,
        el('td', { className: 'mono' }, t.id),
        el('td', null, t.name),
        el('td', null, badge(t.result, t.result === 'accepted' ? (t.conclusive ? 'open' : 'suspect') : 'closed'),
          t.reason && t.reason !== 'none' ? ' ' + t.reason : ''),
        el('td', { className: 'mono' }, 'MAIL FROM:' + (t.mail_from || '') + ' RCPT TO:' + (t.rcpt_to || '')),
        el('td', { className: 'mono' }, replyText(t.reply) || t.note || '')));
    }
    if (!rows.length) return null;
    return el('details', null, el('summary', null, 'Relay techniques and controls (' + rows.length + ')'),
      el('div', { className: 'scroll' }, el('table', null,
        el('thead', null, el('tr', null, el('th', null, 'Test'), el('th', null, 'Technique'),
          el('th', null, 'Result'), el('th', null, 'Envelope'), el('th', null, 'Reply'))),
        el('tbody', null, ...rows))));
  }

  function renderFindings(s) {
    const list = s.findings || [];
    if (!list.length) return el('p', { className: 'muted' }, 'No findings.');
    const order = { critical: 0, warning: 1, info: 2 };
    const sorted = list.slice().sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
    return el('ul', { className: 'findings' }, ...sorted.map((f) => el('li', null,
      badge(f.severity), ' ', el('strong', null, f.title || f.id), ' ',
      el('span', { className: 'muted mono' }, f.id),
      f.message ? el('div', null, f.message) : null,
      f.evidence && f.evidence !== f.message ? el('div', { className: 'mono muted' }, f.evidence) : null,
      f.remediation ? el('pre', { className: 'fix' }, f.remediation) : null)));
  }

  function renderBlocklists(s) {
    const bl = s.blocklists || [];
    if (!s.dns_checked) return el('p', { className: 'muted' }, 'DNS checks skipped' + (s.dns_skip_reason ? ': ' + s.dns_skip_reason : '') + '.');
    if (!bl.length) return null;
    return el('div', { className: 'scroll' }, el('table', null,
      el('thead', null, el('tr', null, el('th', null, 'Blocklist'), el('th', null, 'Status'), el('th', null, 'Why'))),
      el('tbody', null, ...bl.map((b) => el('tr', null,
        el('td', { className: 'mono' }, b.zone), el('td', null, badge(b.status)),
        el('td', null, b.txt || b.reason || ''))))));
  }

  function renderServer(s) {
    const cert = s.certificate;
    const sw = s.software;
    const rep = s.reputation;
    const card = el('div', { className: 'card', dataset: { verdict: String(s.verdict) } },
      el('h3', null, badge(s.verdict), ' ', serverName(s), s.host ? ' (' + s.host + ')' : ''),
      el('p', null, s.verdict_reason || ''),
      facts([
        ['Error', s.error],
        ['Banner', s.banner],
        ['Software', sw ? [sw.name, sw.version].filter(Boolean).join(' ') : null],
        ['TLS', s.tls ? [s.tls_version, s.tls_cipher].filter(Boolean).join(' ') : (s.starttls_offered ? 'offered' : 'not used')],
        ['Certificate', cert ? (cert.subject || '') + (typeof cert.days_left === 'number' ? ' (' + cert.days_left + ' days left)' : '') : null],
        ['PTR', Array.isArray(s.ptr) && s.ptr.length ? s.ptr.join(', ') : null],
        ['Reputation', rep && typeof rep.score === 'number' ? rep.score + ' / 100' : null],
      ]));
    if (rep && Array.isArray(rep.deductions) && rep.deductions.length)
      card.appendChild(el('ul', null, ...rep.deductions.map((d) => el('li', null, '−' + d.points + ': ' + d.reason))));
    card.appendChild(el('h4', null, 'Findings'));
    card.appendChild(renderFindings(s));
    const bl = renderBlocklists(s);
    if (bl) { card.appendChild(el('h4', null, 'Blocklists')); card.appendChild(bl); }
    const tests = renderTests(s);
    if (tests) card.appendChild(tests);
    if (Array.isArray(s.transcript) && s.transcript.length) {
      const pre = el('div', { className: 'transcript' }, ...s.transcript.map((l) =>
        el('div', { className: 'line ' + (l.dir === 'C' ? 'C' : l.dir === 'S' ? 'S' : 'note') },
          el('span', { className: 'dir' }, l.dir === '*' ? '*' : l.dir + ':'), l.line)));
      card.appendChild(el('details', null, el('summary', null, 'SMTP dialogue (' + s.transcript.length + ' lines)'), pre));
    }
    return card;
  }

  function renderChanges(doc) {
    const box = $('changes');
    clear(box);
    if (!doc.previous) return;
    const ch = Array.isArray(doc.changes) ? doc.changes : [];
    box.appendChild(el('h2', null, 'Since the last test (' + fmtTime(doc.previous.finished) + ', ' + doc.previous.verdict + ')'));
    if (!ch.length) { box.appendChild(el('p', { className: 'muted' }, 'Nothing changed.')); return; }
    box.appendChild(el('ul', { className: 'changes' }, ...ch.map((c) =>
      el('li', null, badge(c.direction, c.direction), ' ', c.message))));
  }

  function render(doc) {
    const res = doc.result || {};
    const v = String(doc.verdict || res.verdict || 'unknown');
    if (typeof doc.target === 'string' && !$('target').value) $('target').value = doc.target;
    const box = $('verdict');
    box.className = 'verdict ' + v;
    box.dataset.verdict = v;
    const words = { open: 'OPEN RELAY', suspect: 'SUSPECT', closed: 'CLOSED', inconclusive: 'INCONCLUSIVE', unreachable: 'UNREACHABLE' };
    box.textContent = (words[v] || v.toUpperCase()) + ': ' + (doc.target || '');
    const meta = $('meta');
    clear(meta);
    meta.appendChild(document.createTextNode('Finished ' + fmtTime(doc.finished) + ' UTC in ' + fmtMs(doc.duration_ms) + '. Permanent link: '));
    meta.appendChild(el('a', { href: '/r/' + doc.id }, location.origin + '/r/' + doc.id));
    if (res.error) meta.appendChild(el('div', null, 'Error: ' + res.error));
    renderChanges(doc);
    const servers = $('servers');
    clear(servers);
    for (const s of (res.servers || [])) servers.appendChild(renderServer(s));
    $('result').hidden = false;
    setStatus('');
    loadHistory(doc.target, doc.id);
  }

  async function loadHistory(target, current) {
    if (typeof target !== 'string') return;
    try {
      const h = await api('/api/v1/history?target=' + encodeURIComponent(target) + '&limit=20');
      const tb = $('history-table').querySelector('tbody');
      clear(tb);
      $('history-target').textContent = h.target;
      for (const c of h.checks || []) {
        if (!ID_RE.test(c.id)) continue;
        tb.appendChild(el('tr', null,
          el('td', null, fmtTime(c.finished)),
          el('td', null, badge(c.verdict)),
          el('td', null, fmtMs(c.duration_ms)),
          el('td', null, c.source),
          el('td', null, c.id === current ? el('span', { className: 'muted' }, 'this one')
            : el('a', { href: '/r/' + c.id }, 'view'))));
      }
      $('history').hidden = false;
    } catch (e) { /* the history is an extra */ }
  }

  async function load(id, startStream) {
    try {
      const doc = await api('/api/v1/checks/' + id);
      if (doc.state === 'done') { if (source) { source.close(); source = null; } render(doc); return; }
      if (typeof doc.target === 'string') $('target').value = doc.target;
      if (startStream !== false || !source) watch(id);
    } catch (e) {
      setStatus(e.message, true);
    }
  }

  async function submit(ev) {
    ev.preventDefault();
    const target = $('target').value.trim();
    if (!target) return;
    const btn = $('go');
    btn.disabled = true;
    setStatus('Starting…');
    $('history').hidden = true;
    try {
      const r = await api('/api/v1/checks', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify({ target }),
      });
      if (!ID_RE.test(r.id)) throw new Error('unexpected answer');
      history.pushState({ id: r.id }, '', '/r/' + r.id);
      watch(r.id);
    } catch (e) {
      setStatus(e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  function route() {
    const m = /^\/r\/([0-9a-f]{32})$/.exec(location.pathname);
    if (m) load(m[1], true);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('check-form').addEventListener('submit', submit);
    window.addEventListener('popstate', route);
    route();
  });
})();
