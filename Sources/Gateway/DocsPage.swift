/// The page at /docs: renders /openapi.json (any OpenAPI 3.x document) and
/// lets a person try every operation from the browser. Self-contained: one
/// HTML document, its style and script inline, nothing fetched from another
/// host (the only request it makes on its own is for /openapi.json).
enum DocsPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>API docs</title>
    <link rel="icon" href="data:,">
    <style>
      :root { --border: #d0d4da; --muted: #5b6470; --code: #f5f6f8; }
      body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 70rem; margin: 0 auto; padding: 1rem 1.2rem 4rem; color: #1d2329; }
      h1 { font-size: 1.7rem; margin: .6rem 0 .2rem; } h1 small { font-size: .8rem; color: var(--muted); font-weight: 400; }
      h2 { font-size: 1.2rem; margin: 1.8rem 0 .4rem; border-bottom: 1px solid var(--border); padding-bottom: .2rem; }
      h3 { font-size: .95rem; margin: 1rem 0 .3rem; } h4 { font-size: .85rem; margin: .7rem 0 .2rem; color: var(--muted); }
      #auth { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; background: var(--code); border: 1px solid var(--border); border-radius: 6px; padding: .5rem .8rem; }
      #auth .hint { color: var(--muted); font-size: .85rem; }
      details.op { border: 1px solid var(--border); border-left-width: 5px; border-radius: 6px; margin: .5rem 0; background: #fff; }
      details.op > summary { cursor: pointer; padding: .45rem .7rem; display: flex; gap: .8rem; align-items: baseline; flex-wrap: wrap; }
      details.op[open] > summary { border-bottom: 1px solid var(--border); }
      .op-body { padding: .3rem 1rem 1rem; }
      .method { font: 700 .8rem/1.6 ui-monospace, monospace; text-transform: uppercase; color: #fff; border-radius: 4px; min-width: 4.6rem; text-align: center; }
      .path { font: 600 .95rem ui-monospace, SFMono-Regular, Menlo, monospace; } .summary { color: var(--muted); }
      .get { --m: #1f6fd1; } .post { --m: #16884a; } .put { --m: #c26a00; } .patch { --m: #0f8a8a; } .delete { --m: #c4302b; } .head, .options, .trace { --m: #6b5bb5; }
      details.op { border-left-color: var(--m); } .method { background: var(--m); }
      .deprecated .path { text-decoration: line-through; }
      table { border-collapse: collapse; width: 100%; font-size: .9rem; }
      th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #eceef1; }
      th { color: var(--muted); font-weight: 600; }
      pre, code { font: .83rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
      pre { background: var(--code); border: 1px solid #e3e6ea; border-radius: 4px; padding: .5rem .7rem; margin: .2rem 0; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
      td pre { margin: 0; }
      form.try { margin-top: 1rem; border-top: 1px dashed var(--border); padding-top: .6rem; }
      .field { display: grid; grid-template-columns: 14rem 1fr; gap: .6rem; align-items: start; margin: .35rem 0; }
      .field label small { color: var(--muted); font-weight: 400; display: block; }
      input, textarea, button { font: inherit; } input, textarea { border: 1px solid #b9bfc7; border-radius: 4px; padding: .3rem .45rem; }
      textarea { font: .85rem/1.4 ui-monospace, monospace; min-height: 7rem; width: 100%; box-sizing: border-box; }
      button { border: 1px solid #1d2329; background: #1d2329; color: #fff; border-radius: 4px; padding: .35rem 1rem; cursor: pointer; }
      button.secondary { background: #fff; color: #1d2329; }
      :focus-visible { outline: 3px solid #f0b400; outline-offset: 1px; }
      .status-ok { color: #16884a; font-weight: 700; } .status-bad { color: #c4302b; font-weight: 700; }
      .required { color: #c4302b; } .muted { color: var(--muted); }
    </style>
    </head>
    <body>
    <header>
      <h1 id="title">API docs</h1>
      <p id="intro">Loading <a href="/openapi.json">/openapi.json</a>…</p>
      <form id="auth" onsubmit="return false">
        <label for="api-key"><strong>API key</strong></label>
        <input id="api-key" type="password" autocomplete="off" spellcheck="false" size="36">
        <button type="button" class="secondary" id="forget-key">Forget</button>
        <span class="hint">When filled, every request is sent with <code>Authorization: Bearer &lt;key&gt;</code>; remembered in this browser.</span>
      </form>
    </header>
    <main id="operations"></main>
    <script>
    'use strict';
    const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
    let spec = null, counter = 0;

    // A DOM element; text children are text (never parsed as HTML).
    function el(tag, attrs = {}, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : v);
      }
      for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
      return e;
    }

    // $ref resolution: local JSON pointers (#/components/...), siblings of $ref win (OpenAPI 3.1).
    function pointer(ref) {
      if (!ref.startsWith('#/')) throw new Error('only local $refs are supported: ' + ref);
      return ref.slice(2).split('/').map(s => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~')).reduce((node, key) => {
        if (node === null || typeof node !== 'object' || !(key in node)) throw new Error('unresolved $ref ' + ref);
        return node[key];
      }, spec);
    }
    function deref(x) {
      for (let hops = 0; x && typeof x === 'object' && typeof x.$ref === 'string' && hops < 32; hops++) {
        const { $ref, ...rest } = x;
        x = Object.keys(rest).length ? { ...pointer($ref), ...rest } : pointer($ref);
      }
      return x;
    }
    const refName = ref => ref.split('/').pop();
    const star = required => required ? el('span', { class: 'required', title: 'required' }, ' *') : '';
    function typesOf(s) {
      if (Array.isArray(s.type)) return s.type;
      if (s.type) return [s.type];
      return s.properties ? ['object'] : s.items ? ['array'] : [];
    }

    // A schema as readable text: TypeScript-like, `?` marks an optional field, constraints in parentheses.
    const NOTES = ['format', 'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
      'minItems', 'maxItems', 'minProperties', 'maxProperties', 'default'];
    function notes(s) {
      const out = NOTES.filter(k => s[k] !== undefined && typeof s[k] !== 'boolean')
        .map(k => k + ' ' + (k === 'format' || k === 'pattern' ? s[k] : JSON.stringify(s[k])));
      for (const k of ['uniqueItems', 'readOnly', 'writeOnly', 'deprecated']) if (s[k] === true) out.push(k);
      return out.length ? ' (' + out.join(', ') + ')' : '';
    }
    function schemaText(raw, indent = '', seen = []) {
      if (raw === undefined || raw === true || raw === null) return 'any';
      if (raw === false) return 'nothing';
      let name = '';
      if (raw.$ref) {
        name = refName(raw.$ref);
        if (seen.includes(raw.$ref)) return name + ' (see above)';
        seen = [...seen, raw.$ref];
      }
      const s = deref(raw);
      const join = (list, sep) => list.map(x => schemaText(x, indent, seen)).join(sep);
      let text;
      if (s.const !== undefined) text = JSON.stringify(s.const);
      else if (s.enum) text = s.enum.map(v => JSON.stringify(v)).join(' | ');
      else if (s.allOf) text = join(s.allOf, ' & ');
      else if (s.oneOf || s.anyOf) text = join(s.oneOf || s.anyOf, ' | ');
      else text = typesOf(s).map(t => t === 'array' ? 'array of ' + schemaText(s.items, indent, seen)
        : t === 'object' ? objectText(s, indent, seen) : t).join(' | ') || 'any';
      if (s.nullable === true) text += ' | null';
      return (name && !text.startsWith('{') ? name + ': ' : name ? name + ' ' : '') + text + notes(s);
    }
    function objectText(s, indent, seen) {
      const required = new Set(s.required || []), inner = indent + '  ';
      const lines = Object.entries(s.properties || {}).map(([key, p]) => {
        const description = (p && (p.description || deref(p).description)) || '';
        return inner + key + (required.has(key) ? '' : '?') + ': ' + schemaText(p, inner, seen) + (description ? '  — ' + description.replace(/\s+/g, ' ') : '');
      });
      if (s.additionalProperties && typeof s.additionalProperties === 'object') lines.push(inner + '[key: string]: ' + schemaText(s.additionalProperties, inner, seen));
      else if (s.additionalProperties === true) lines.push(inner + '[key: string]: any');
      return lines.length ? '{\n' + lines.join('\n') + '\n' + indent + '}' : 'object';
    }

    // An example value: the schema's own examples/example/default, else a placeholder of its type.
    function example(raw, forRequest, seen = []) {
      if (!raw || typeof raw !== 'object') return null;
      if (raw.$ref) { if (seen.includes(raw.$ref)) return null; seen = [...seen, raw.$ref]; }
      const s = deref(raw);
      if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
      for (const k of ['example', 'default', 'const']) if (s[k] !== undefined) return s[k];
      if (s.enum) return s.enum[0];
      if (s.allOf) return Object.assign({}, ...s.allOf.map(x => example(x, forRequest, seen)).filter(v => v && typeof v === 'object'));
      const branches = s.oneOf || s.anyOf;
      if (branches) return example(branches.find(b => !typesOf(deref(b)).includes('null')) || branches[0], forRequest, seen);
      switch (typesOf(s).find(t => t !== 'null')) {
        case 'object': {
          const o = {};
          for (const [k, p] of Object.entries(s.properties || {})) if (!(forRequest && (p.readOnly || deref(p).readOnly))) o[k] = example(p, forRequest, seen);
          return o;
        }
        case 'array': { const item = s.items ? example(s.items, forRequest, seen) : null; return item === null ? [] : [item]; }
        case 'integer': case 'number': return typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
        case 'boolean': return true;
        case 'string': return { 'date-time': new Date().toISOString(), date: new Date().toISOString().slice(0, 10), email: 'user@example.com',
          uri: 'https://example.com/', uuid: '00000000-0000-4000-8000-000000000000' }[s.format] || 'string';
        default: return null;
      }
    }

    const jsonMedia = content => Object.keys(content || {}).find(t => /json/i.test(t));
    function contentBlock(content) {
      return Object.entries(content || {}).map(([type, media]) => [el('div', { class: 'muted' }, type), el('pre', { class: 'schema' }, schemaText(media.schema))]);
    }

    function parametersOf(item, op) {
      const byKey = new Map();
      for (const p of [...(item.parameters || []), ...(op.parameters || [])].map(deref)) byKey.set(p.in + ' ' + p.name, p);
      return [...byKey.values()];
    }
    const paramSchema = p => p.schema || (p.content && Object.values(p.content)[0].schema);

    function renderOperation(path, method, item, op) {
      const id = 'op' + (++counter), params = parametersOf(item, op), body = op.requestBody && deref(op.requestBody);
      const details = el('details', { class: 'op ' + method + (op.deprecated ? ' deprecated' : ''), id, 'data-method': method, 'data-path': path },
        el('summary', {}, el('span', { class: 'method' }, method), el('span', { class: 'path' }, path), el('span', { class: 'summary' }, op.summary || '')));
      const part = el('div', { class: 'op-body' });
      details.append(part);
      const description = op.description || item.description;
      if (description) part.append(el('p', {}, description));
      if (params.length) part.append(el('h3', {}, 'Parameters'), el('table', {},
        el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'In'), el('th', {}, 'Schema'), el('th', {}, 'Description')),
        params.map(p => el('tr', {}, el('td', {}, el('code', {}, p.name), star(p.required)),
          el('td', {}, p.in), el('td', {}, el('pre', { class: 'schema' }, schemaText(paramSchema(p)))), el('td', {}, p.description || '')))));
      if (body) part.append(el('div', { class: 'request-body' }, el('h3', {}, 'Request body', star(body.required)),
        body.description ? el('p', {}, body.description) : '', contentBlock(body.content)));
      part.append(el('h3', {}, 'Responses'), el('table', {},
        el('tr', {}, el('th', {}, 'Status'), el('th', {}, 'Description'), el('th', {}, 'Schema')),
        Object.entries(op.responses || {}).map(([status, r]) => {
          r = deref(r);
          const headers = Object.entries(r.headers || {})
            .map(([name, h]) => el('div', { class: 'muted' }, 'header ', el('code', {}, name), ': ' + (deref(h).description || '')));
          return el('tr', { 'data-status': status }, el('td', {}, el('code', {}, status)), el('td', {}, r.description || '', headers),
            el('td', {}, contentBlock(r.content)));
        })));
      part.append(tryForm(id, path, method, params, body, op.responses || {}));
      return details;
    }

    function tryForm(id, path, method, params, body, responses) {
      const form = el('form', { class: 'try', 'aria-label': 'Try ' + method.toUpperCase() + ' ' + path }, el('h3', {}, 'Try it out'));
      const inputs = params.filter(p => ['path', 'query', 'header'].includes(p.in)).map(p => {
        const s = deref(paramSchema(p) || {}), hint = [s.examples && s.examples[0], s.example, s.default].find(v => v !== undefined);
        const input = el('input', { id: id + '-' + p.in + '-' + p.name, name: p.name, 'data-in': p.in, required: !!p.required,
          placeholder: hint !== undefined ? String(hint) : '' });
        form.append(el('div', { class: 'field' }, el('label', { for: input.id }, p.name, star(p.required),
          el('small', {}, p.in + ', ' + schemaText(paramSchema(p)).split('\n')[0])), input));
        return [p, input];
      });
      let textarea = null, contentType = null;
      if (body && Object.keys(body.content || {}).length) {
        contentType = jsonMedia(body.content) || Object.keys(body.content)[0];
        const schema = body.content[contentType].schema, media = body.content[contentType];
        const value = media.example !== undefined ? media.example : media.examples ? deref(Object.values(media.examples)[0]).value : example(schema, true);
        textarea = el('textarea', { id: id + '-body', class: 'body', name: 'body', spellcheck: 'false', rows: 8 });
        textarea.value = typeof value === 'string' && !/json/i.test(contentType) ? value : JSON.stringify(value, null, 2);
        form.append(el('div', { class: 'field' }, el('label', { for: textarea.id }, 'Body', el('small', {}, contentType)), textarea));
      }
      let keyInput = null;
      if (['post', 'put', 'patch'].includes(method) && !inputs.some(([p]) => p.in === 'header' && /^idempotency-key$/i.test(p.name))) {
        keyInput = el('input', { id: id + '-idempotency-key', name: 'Idempotency-Key', class: 'idempotency-key', placeholder: 'optional' });
        form.append(el('div', { class: 'field' }, el('label', { for: keyInput.id }, 'Idempotency-Key', el('small', {}, 'header, optional')), keyInput));
      }
      // Accept what the first success response declares.
      const success = Object.entries(responses).filter(([status]) => /^2/.test(status)).map(([, r]) => Object.keys(deref(r).content || {})[0]).find(Boolean);
      const accept = success || '*/*';
      const result = el('div', { class: 'result', 'aria-live': 'polite' });
      form.append(el('div', {}, el('button', { type: 'submit', class: 'execute' }, 'Execute'), ' ',
        el('button', { type: 'button', class: 'secondary', onclick: () => result.replaceChildren() }, 'Clear')), result);
      form.addEventListener('submit', async event => {
        event.preventDefault();
        let url = path;
        const query = new URLSearchParams(), headers = { Accept: accept };
        for (const [p, input] of inputs) {
          const value = input.value;
          if (p.in === 'path') url = url.split('{' + p.name + '}').join(encodeURIComponent(value));
          else if (value === '') continue;
          else if (p.in === 'query') query.append(p.name, value);
          else headers[p.name] = value;
        }
        if (String(query)) url += '?' + query;
        if (textarea) headers['Content-Type'] = contentType;
        if (keyInput && keyInput.value) headers['Idempotency-Key'] = keyInput.value;
        const apiKey = document.getElementById('api-key').value.trim();
        if (apiKey) headers.Authorization = 'Bearer ' + apiKey;
        const init = { method: method.toUpperCase(), headers };
        if (textarea) init.body = textarea.value;
        const absolute = new URL(url, location.href).href;
        result.replaceChildren(el('h4', {}, 'Request URL'), el('pre', { class: 'request-url' }, absolute),
          el('h4', {}, 'curl'), el('pre', { class: 'curl' }, curl(absolute, init)), el('p', { class: 'status' }, 'Sending…'));
        const started = performance.now();
        try {
          const response = await fetch(url, init);
          const text = await response.text(), type = response.headers.get('content-type') || '';
          let shown = text;
          if (/json/i.test(type) && text) try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* shown as sent */ }
          const ms = Math.round(performance.now() - started);
          result.querySelector('.status').replaceWith(el('h4', {}, 'Response'),
            el('p', { class: 'status ' + (response.ok ? 'status-ok' : 'status-bad'), 'data-status': response.status },
              response.status + ' ' + response.statusText, el('span', { class: 'muted' }, ' · ' + ms + ' ms')),
            el('h4', {}, 'Headers'), el('pre', { class: 'response-headers' }, [...response.headers].map(([k, v]) => k + ': ' + v).join('\n')),
            el('h4', {}, 'Body'), el('pre', { class: 'response-body' }, shown || '(empty)'));
        } catch (error) {
          result.querySelector('.status').replaceWith(el('p', { class: 'status status-bad', 'data-status': 'error' }, 'No response: ' + error.message));
        }
      });
      return form;
    }

    const shellQuote = s => "'" + String(s).replace(/'/g, "'\\''") + "'";
    function curl(url, init) {
      const lines = ['curl -X ' + init.method + ' ' + shellQuote(url)];
      for (const [k, v] of Object.entries(init.headers)) lines.push('  -H ' + shellQuote(k + ': ' + v));
      if (init.body !== undefined) lines.push('  -d ' + shellQuote(init.body));
      return lines.join(' \\\n');
    }

    // The API key: remembered in localStorage, sent as a bearer token when filled.
    const keyField = document.getElementById('api-key'), storageKey = 'docs.apiKey';
    try { keyField.value = localStorage.getItem(storageKey) || ''; } catch (_) { /* storage disabled */ }
    keyField.addEventListener('input', () => { try { localStorage.setItem(storageKey, keyField.value); } catch (_) { } });
    document.getElementById('forget-key').addEventListener('click', () => { keyField.value = ''; try { localStorage.removeItem(storageKey); } catch (_) { } });

    fetch('/openapi.json').then(r => { if (!r.ok) throw new Error('/openapi.json answered ' + r.status); return r.json(); }).then(doc => {
      spec = doc;
      const info = doc.info || {};
      document.title = (info.title || 'API') + ' — docs';
      document.getElementById('title').replaceChildren(info.title || 'API', ' ', el('small', {}, (info.version || '') + ' · OpenAPI ' + (doc.openapi || '?')));
      document.getElementById('intro').replaceChildren(info.description || '', ' ', el('a', { href: '/openapi.json' }, '/openapi.json'));
      const groups = new Map();
      for (const [path, rawItem] of Object.entries(doc.paths || {})) {
        const item = deref(rawItem);
        for (const method of METHODS.filter(m => item[m])) {
          const tag = (item[method].tags || [])[0] || '';
          if (!groups.has(tag)) groups.set(tag, []);
          groups.get(tag).push(renderOperation(path, method, item, item[method]));
        }
      }
      const main = document.getElementById('operations');
      for (const [tag, ops] of groups) {
        if (groups.size > 1 || tag) main.append(el('h2', {}, tag || 'Other'));
        main.append(...ops);
      }
      document.body.dataset.ready = 'true';
    }).catch(error => {
      document.getElementById('intro').replaceChildren(el('strong', { class: 'status-bad' }, 'Could not render the API: ' + error.message));
      document.body.dataset.ready = 'error';
    });
    </script>
    </body>
    </html>
    """#
}
