/*
 * Gatehouse portal: the try-it console and the Copy buttons of the static reference
 * (templates/reference*.html). Plain JS, no dependencies, no inline script: it runs under
 * the portal's CSP `script-src 'self'`. Everything it shows from a response is put in the
 * page with textContent, never as HTML.
 *
 * DOM hooks (stable; the browser tests rely on them):
 *   [data-gateway]            ancestor of the forms; its value is the gateway base URL,
 *                             the API's base path included (no trailing slash).
 *   form[data-try-it]         one per operation, with
 *       data-method             HTTP method, upper case
 *       data-path               OpenAPI path template, e.g. /pets/{petId}
 *       data-key-in             header | query | bearer | none
 *       data-key-name           header or query parameter name for the key
 *       data-body-type          media type of the body ("" when there is none)
 *     input[data-param-in][data-param-name]   one per parameter (in: path, query, header);
 *                             [data-repeat] on a query array: "a, b" is sent as ?n=a&n=b
 *     input[data-key]         the API key ("API key" label); prefilled from
 *                             sessionStorage "gatehouse.key" when the portal saved one;
 *                             a key typed into one form fills the other forms' empty fields
 *     textarea[data-body]     request body
 *     button[data-send]       "Send request"; disabled in the HTML, enabled here (absent
 *                             when the portal has no gateway address configured)
 *     [data-js-note]          the "needs JavaScript" note, hidden here
 *     [data-result]           filled after each call (aria-live), with:
 *       [data-request]          the method and URL that were sent (never the key's value
 *                               when it travels in a header)
 *       [data-status]           e.g. "200 OK · 35 ms"
 *       [data-problem]          problem+json title and detail in plain words
 *       [data-hint]             what the status means for the reader
 *       [data-error]            the request could not be sent, or did not arrive
 *       table[data-table]       a JSON array of objects as a table
 *       button[data-csv]        "Download CSV" of that table (all rows)
 *       details[data-headers]   response headers
 *       pre[data-body-output]   the body, JSON pretty-printed
 *   pre[data-snippet]         a copyable snippet; a "Copy" button[data-copy-snippet] follows it
 *                             (not portal.js's [data-copy=id], which this script leaves alone)
 *
 * window.GatehouseTryIt exposes the pure helpers (toCsv, tabular, buildRequest, hint)
 * for tests.
 */
(function () {
  'use strict';

  var KEY_STORAGE = 'gatehouse.key';
  var MAX_TABLE_ROWS = 500;

  /* The request a form describes: { url, init } or { error } in plain words. */
  function buildRequest(form, gateway) {
    var method = form.getAttribute('data-method') || 'GET';
    var path = form.getAttribute('data-path') || '/';
    var query = new URLSearchParams();
    var headers = {};
    var fields = form.querySelectorAll('[data-param-in]');
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var where = field.getAttribute('data-param-in');
      var name = field.getAttribute('data-param-name');
      var value = field.value;
      if (where === 'path') {
        if (value === '') return { error: 'Fill in "' + name + '": it is part of the address.' };
        path = path.split('{' + name + '}').join(encodeURIComponent(value));
      } else if (value !== '' && where === 'query' && field.hasAttribute('data-repeat')) {
        value.split(',').map(function (v) { return v.trim(); }).filter(Boolean).forEach(function (v) { query.append(name, v); });
      } else if (value !== '' && where === 'query') {
        query.append(name, value);
      } else if (value !== '' && where === 'header') {
        headers[name] = value;
      }
    }
    var keyField = form.querySelector('[data-key]');
    var key = keyField ? keyField.value.trim() : '';
    var keyIn = form.getAttribute('data-key-in');
    var keyName = form.getAttribute('data-key-name') || 'x-api-key';
    if (key !== '') {
      if (keyIn === 'header') headers[keyName] = key;
      else if (keyIn === 'query') query.append(keyName, key);
      else if (keyIn === 'bearer') headers.Authorization = 'Bearer ' + key;
    }
    var init = { method: method, headers: headers, mode: 'cors', credentials: 'omit', cache: 'no-store' };
    var bodyField = form.querySelector('[data-body]');
    var bodyType = form.getAttribute('data-body-type') || '';
    if (bodyField && method !== 'GET' && method !== 'HEAD' && bodyField.value.trim() !== '') {
      if (isJson(bodyType)) {
        try {
          JSON.parse(bodyField.value);
        } catch (e) {
          return { error: 'The request body is not valid JSON: ' + e.message };
        }
      }
      headers['Content-Type'] = bodyType || 'application/json';
      init.body = bodyField.value;
    }
    var search = query.toString();
    var url = gateway.replace(/\/+$/, '') + path + (search ? '?' + search : '');
    return { url: url, init: init, keyInQuery: keyIn === 'query' && key !== '' ? key : '' };
  }

  function isJson(type) {
    var essence = (type || '').split(';')[0].trim().toLowerCase();
    return essence === 'application/json' || /\+json$/.test(essence);
  }

  /* What a status means to someone who does not program. */
  function hint(status, retryAfter) {
    if (status === 401) return 'The key is missing or wrong. Paste the key of one of your apps into "API key" and send again.';
    if (status === 403) return 'The key works, but its app is not subscribed to a plan that includes this operation (or the subscription is still waiting for approval).';
    if (status === 404) return 'Nothing was found at this address. Check the values you filled in.';
    if (status === 410) return 'This API has been retired. Its page names the API that replaces it.';
    if (status === 429) {
      var wait = retryAfter ? ' Try again in ' + retryAfter + ' seconds.' : ' Try again a little later.';
      return 'You reached a limit of your plan.' + wait;
    }
    if (status === 400 || status === 422) return 'The API did not accept what was sent. The detail below says what to change.';
    if (status >= 500) return 'The API behind the gateway is having trouble (status ' + status + '). This is not your fault; try again later.';
    return '';
  }

  /* The rows to show as a table: a JSON array of objects, or the first such array held
     by an object (e.g. { "items": [...] }); null when the body has none. */
  function tabular(value) {
    function rows(v) {
      return Array.isArray(v) && v.length > 0 && v.every(function (r) {
        return r !== null && typeof r === 'object' && !Array.isArray(r);
      }) ? v : null;
    }
    if (rows(value)) return value;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (var name in value) {
        if (Object.prototype.hasOwnProperty.call(value, name) && rows(value[name])) return value[name];
      }
    }
    return null;
  }

  function columns(rows) {
    var seen = [];
    rows.forEach(function (row) {
      Object.keys(row).forEach(function (k) { if (seen.indexOf(k) < 0) seen.push(k); });
    });
    return seen;
  }

  function cellText(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  /* RFC 4180: CRLF between records; a field holding a comma, quote, CR or LF is quoted,
     quotes doubled. A text cell a spreadsheet would run as a formula (=, +, -, @) gets a
     leading apostrophe (OWASP's advice against CSV injection); numbers stay as they are. */
  function toCsv(rows) {
    var cols = columns(rows);
    function field(value) {
      var text = cellText(value);
      if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = "'" + text;
      return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    }
    var lines = [cols.map(field).join(',')];
    rows.forEach(function (row) {
      lines.push(cols.map(function (c) { return field(row[c]); }).join(','));
    });
    return lines.join('\r\n') + '\r\n';
  }

  function el(tag, text, attribute) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (attribute) node.setAttribute(attribute, '');
    return node;
  }

  function table(rows, form) {
    var wrap = el('div');
    var cols = columns(rows);
    var t = el('table', null, 'data-table');
    var shown = rows.slice(0, MAX_TABLE_ROWS);
    t.appendChild(el('caption', rows.length + (rows.length === 1 ? ' row' : ' rows') +
      (rows.length > shown.length ? ' (first ' + shown.length + ' shown; the CSV has all)' : '')));
    var head = t.appendChild(el('thead')).appendChild(el('tr'));
    cols.forEach(function (c) { head.appendChild(el('th', c)).setAttribute('scope', 'col'); });
    var body = t.appendChild(el('tbody'));
    shown.forEach(function (row) {
      var tr = body.appendChild(el('tr'));
      cols.forEach(function (c) { tr.appendChild(el('td', cellText(row[c]))); });
    });
    var button = el('button', 'Download CSV', 'data-csv');
    button.type = 'button';
    button.addEventListener('click', function () {
      var blob = new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' });
      var link = el('a');
      link.href = URL.createObjectURL(blob);
      link.download = (form.getAttribute('data-path') || 'data').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') + '.csv';
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
    wrap.appendChild(button);
    var scroll = el('div');
    scroll.className = 'table-scroll';
    scroll.appendChild(t);
    wrap.appendChild(scroll);
    return wrap;
  }

  function show(result, nodes) {
    result.replaceChildren.apply(result, nodes);
    result.hidden = false;
  }

  function showResponse(form, result, request, response, text, ms) {
    var nodes = [requestLine(request), el('p', response.status + ' ' + (response.statusText || '') + ' · ' + ms + ' ms', 'data-status')];
    var type = response.headers.get('content-type') || '';
    var parsed;
    var isParsed = false;
    if (isJson(type) || /^\s*[[{]/.test(text)) {
      try { parsed = JSON.parse(text); isParsed = true; } catch (e) { isParsed = false; }
    }
    var problem = /^application\/problem\+json/i.test(type) && isParsed && parsed && typeof parsed === 'object';
    if (problem) {
      var box = el('div', null, 'data-problem');
      box.appendChild(el('p', parsed.title || 'The request was refused')).className = 'problem-title';
      if (parsed.detail) box.appendChild(el('p', parsed.detail));
      nodes.push(box);
    }
    var words = hint(response.status, response.headers.get('retry-after'));
    if (words) nodes.push(el('p', words, 'data-hint'));
    var rows = isParsed && !problem ? tabular(parsed) : null;
    if (rows) nodes.push(table(rows, form));
    var headers = el('details', null, 'data-headers');
    headers.appendChild(el('summary', 'Response headers'));
    var lines = [];
    response.headers.forEach(function (value, name) { lines.push(name + ': ' + value); });
    headers.appendChild(el('pre', lines.join('\n')));
    nodes.push(headers);
    var label = el('p', problem ? 'Problem details (JSON)' : 'Body');
    label.className = 'body-label';
    nodes.push(label);
    nodes.push(el('pre', isParsed ? JSON.stringify(parsed, null, 2) : text, 'data-body-output'));
    show(result, nodes);
  }

  /* "GET https://…": what was sent, so a reader can compare it with the snippets. A key in
     the query is shown masked. */
  function requestLine(request) {
    var url = request.url;
    if (request.keyInQuery) {
      var encoded = new URLSearchParams({ k: request.keyInQuery }).toString().slice(2);
      url = url.split('=' + encoded).join('=…');
    }
    var line = el('p', null, 'data-request');
    line.appendChild(el('code', request.init.method + ' ' + url));
    return line;
  }

  function send(form, event) {
    event.preventDefault();
    var result = form.querySelector('[data-result]');
    var holder = form.closest('[data-gateway]');
    var request = buildRequest(form, holder ? holder.getAttribute('data-gateway') : '');
    if (request.error) {
      show(result, [el('p', request.error, 'data-error')]);
      return;
    }
    var button = form.querySelector('[data-send]');
    button.disabled = true;
    show(result, [el('p', 'Sending…', 'data-status')]);
    var started = performance.now();
    var failed = function () { return null; };
    fetch(request.url, request.init).then(function (response) {
      return response.text().then(function (text) { return { response: response, text: text }; }, failed);
    }, failed).then(function (got) {
      if (got) {
        showResponse(form, result, request, got.response, got.text, Math.round(performance.now() - started));
      } else {
        show(result, [el('p', 'The request did not reach the gateway at ' + request.url +
          '. It may be down, or it refused this page (CORS). The curl example below shows the same call.', 'data-error')]);
      }
    }).then(function () { button.disabled = false; }, function (error) {
      button.disabled = false;
      throw error; /* a bug of this script: leave it in the console, where the browser tests look */
    });
  }

  function copy(pre, button) {
    var text = pre.textContent;
    var done = function () {
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = 'Copy'; }, 2000);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(pre); });
    } else {
      select(pre);
    }
  }

  /* Without clipboard access (an http page that is not localhost), select the text so
     the reader can copy it themselves. */
  function select(pre) {
    var range = document.createRange();
    range.selectNodeContents(pre);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* A key typed into one form is the reader's key for every operation: fill the others'
     empty key fields with it. */
  function shareKey(event) {
    var value = event.target.value;
    var fields = document.querySelectorAll('[data-key]');
    for (var i = 0; i < fields.length; i++) {
      if (fields[i] !== event.target && fields[i].value === '') fields[i].value = value;
    }
  }

  function savedKey() {
    try { return window.sessionStorage.getItem(KEY_STORAGE) || ''; } catch (e) { return ''; }
  }

  function start() {
    var key = savedKey();
    var forms = document.querySelectorAll('form[data-try-it]');
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      var keyField = form.querySelector('[data-key]');
      if (keyField && key && !keyField.value) keyField.value = key;
      if (keyField) keyField.addEventListener('change', shareKey);
      var note = form.querySelector('[data-js-note]');
      if (note) note.hidden = true;
      var button = form.querySelector('[data-send]');
      if (!button) continue; /* the portal has no gateway address: nothing to send to */
      button.disabled = false;
      form.addEventListener('submit', send.bind(null, form));
    }
    var snippets = document.querySelectorAll('pre[data-snippet]');
    for (var j = 0; j < snippets.length; j++) {
      var copyButton = el('button', 'Copy', 'data-copy-snippet');
      copyButton.type = 'button';
      copyButton.setAttribute('aria-label', 'Copy the ' + snippets[j].getAttribute('data-snippet') + ' example');
      copyButton.addEventListener('click', copy.bind(null, snippets[j], copyButton));
      snippets[j].insertAdjacentElement('afterend', copyButton);
    }
  }

  window.GatehouseTryIt = { toCsv: toCsv, tabular: tabular, buildRequest: buildRequest, hint: hint };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
