/// The page that renders `/openapi.json` (self-contained: no script or style from elsewhere).
enum GatewayDocuments {
    static let docsPage = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>videobus gateway API</title>
    <style>
      body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
      h1 { font-size: 1.6rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
      .op { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; margin: .6rem 0; }
      .method { font-weight: 700; text-transform: uppercase; display: inline-block; width: 4.5rem; }
      .get { color: #0a6; } .post { color: #06c; } .put { color: #b70; } .delete { color: #c22; }
      code { background: #f4f4f4; padding: 0 .25rem; border-radius: 3px; }
      table { border-collapse: collapse; margin-top: .4rem; } td { padding: .1rem .8rem .1rem 0; vertical-align: top; }
    </style>
    </head>
    <body>
    <h1>videobus gateway API</h1>
    <p id="intro">Loading <a href="/openapi.json">/openapi.json</a>…</p>
    <div id="paths"></div>
    <script>
    fetch('/openapi.json').then(r => r.json()).then(doc => {
      document.getElementById('intro').textContent = doc.info.description;
      const out = document.getElementById('paths');
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (method === 'parameters') continue;
          const div = document.createElement('div');
          div.className = 'op';
          const params = [...(item.parameters || []), ...(op.parameters || [])].map(p => `<code>${p.name}</code> (${p.in})`).join(', ');
          const responses = Object.entries(op.responses).map(([status, r]) => {
            const text = r.description || (r.$ref ? doc.components.responses[r.$ref.split('/').pop()].description : '');
            return `<tr><td><code>${status}</code></td><td>${text}</td></tr>`;
          }).join('');
          const body = op.requestBody ? `<div>Body: <code>${op.requestBody.content['application/json'].schema.$ref.split('/').pop()}</code></div>` : '';
          div.innerHTML = `<span class="method ${method}">${method}</span><code>${path}</code> — ${op.summary}` +
            (params ? `<div>Parameters: ${params}</div>` : '') + body + `<table>${responses}</table>`;
          out.appendChild(div);
        }
      }
    });
    </script>
    </body>
    </html>
    """#
}
