// The try-it script's pure parts under Node's own test runner (node:test), with the few
// DOM objects they touch faked. The script runs for real in Chromium in the portal's
// browser tests; these pin down CSV quoting, table detection, request building and hints.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const source = fs.readFileSync(path.join(__dirname, '..', '..', 'assets', 'try-it.js'), 'utf8');

function load(options = {}) {
  const forms = options.forms || [];
  const context = {
    window: { sessionStorage: { getItem: (k) => (options.storage || {})[k] || null } },
    document: {
      readyState: 'complete',
      querySelectorAll: (selector) => (selector === 'form[data-try-it]' ? forms : []),
    },
    URLSearchParams,
  };
  vm.runInNewContext(source, context);
  return context.window.GatehouseTryIt;
}

function field(attributes, value) {
  return {
    value, hidden: false, disabled: true, listeners: {},
    getAttribute: (n) => (n in attributes ? attributes[n] : null),
    hasAttribute: (n) => n in attributes,
    addEventListener(name, fn) { this.listeners[name] = fn; },
  };
}

function form(attributes, parts) {
  const listeners = {};
  return {
    getAttribute: (n) => (n in attributes ? attributes[n] : null),
    querySelectorAll: (s) => (s === '[data-param-in]' ? parts.params || [] : []),
    querySelector: (s) => ({ '[data-key]': parts.key, '[data-body]': parts.body, '[data-send]': parts.send,
      '[data-js-note]': parts.note })[s] || null,
    addEventListener: (name, fn) => { listeners[name] = fn; },
    listeners,
  };
}

test('csv quotes commas, quotes and line breaks per RFC 4180 and ends records with CRLF', () => {
  const { toCsv } = load();
  const csv = toCsv([{ a: 'x,y', b: 'say "hi"' }, { a: 'two\nlines', c: 3 }]);
  assert.equal(csv, 'a,b,c\r\n"x,y","say ""hi""",\r\n"two\nlines",,3\r\n');
});

test('csv writes nested values as JSON, null as empty, and defuses formulas in text only', () => {
  const { toCsv } = load();
  const csv = toCsv([{ n: -5, f: '=SUM(A1)', o: { k: 1 }, z: null }]);
  assert.equal(csv, 'n,f,o,z\r\n-5,\'=SUM(A1),"{""k"":1}",\r\n');
});

test('tables come from an array of objects or the first such array an object holds', () => {
  const { tabular } = load();
  const rows = [{ id: 1 }, { id: 2 }];
  assert.equal(tabular(rows), rows);
  assert.equal(tabular({ total: 2, items: rows }), rows);
  assert.equal(tabular([1, 2]), null);
  assert.equal(tabular([]), null);
  assert.equal(tabular({ items: [] }), null);
  assert.equal(tabular('text'), null);
});

test('the request fills the path, the query and the key where the API declares it', () => {
  const { buildRequest } = load();
  const params = [
    field({ 'data-param-in': 'path', 'data-param-name': 'petId' }, 'a b/c'),
    field({ 'data-param-in': 'query', 'data-param-name': 'limit' }, '5'),
    field({ 'data-param-in': 'query', 'data-param-name': 'empty' }, ''),
    field({ 'data-param-in': 'header', 'data-param-name': 'X-Trace' }, 't1'),
  ];
  const header = form({ 'data-method': 'GET', 'data-path': '/pets/{petId}', 'data-key-in': 'header', 'data-key-name': 'X-Pet-Key' },
    { params, key: field({}, ' k1 ') });
  const built = buildRequest(header, 'http://gw.test/api/');
  assert.equal(built.url, 'http://gw.test/api/pets/a%20b%2Fc?limit=5');
  assert.deepEqual({ ...built.init.headers }, { 'X-Trace': 't1', 'X-Pet-Key': 'k1' });
  assert.equal(built.init.credentials, 'omit');

  const query = form({ 'data-method': 'GET', 'data-path': '/pets/{petId}', 'data-key-in': 'query', 'data-key-name': 'api_key' },
    { params, key: field({}, 'k&2') });
  assert.equal(buildRequest(query, 'http://gw.test').url, 'http://gw.test/pets/a%20b%2Fc?limit=5&api_key=k%262');

  const bearer = form({ 'data-method': 'GET', 'data-path': '/x', 'data-key-in': 'bearer' }, { key: field({}, 'k3') });
  assert.equal(buildRequest(bearer, 'http://gw.test').init.headers.Authorization, 'Bearer k3');
});

test('a query array marked data-repeat is sent as one pair per comma-separated value', () => {
  const { buildRequest } = load();
  const params = [
    field({ 'data-param-in': 'query', 'data-param-name': 'tag', 'data-repeat': '' }, 'a, b,,c'),
    field({ 'data-param-in': 'query', 'data-param-name': 'csv' }, 'x,y'),
  ];
  const f = form({ 'data-method': 'GET', 'data-path': '/t' }, { params });
  assert.equal(buildRequest(f, 'http://gw.test').url, 'http://gw.test/t?tag=a&tag=b&tag=c&csv=x%2Cy');
});

test('a missing path value or a body that is not JSON is refused in plain words before sending', () => {
  const { buildRequest } = load();
  const missing = form({ 'data-method': 'GET', 'data-path': '/pets/{petId}' },
    { params: [field({ 'data-param-in': 'path', 'data-param-name': 'petId' }, '')] });
  assert.match(buildRequest(missing, 'http://gw.test').error, /Fill in "petId"/);
  const bad = form({ 'data-method': 'POST', 'data-path': '/p', 'data-body-type': 'application/json' },
    { body: field({}, '{"a":') });
  assert.match(buildRequest(bad, 'http://gw.test').error, /not valid JSON/);
  const good = form({ 'data-method': 'POST', 'data-path': '/p', 'data-body-type': 'application/merge-patch+json' },
    { body: field({}, '{"a":1}') });
  const built = buildRequest(good, 'http://gw.test');
  assert.equal(built.init.body, '{"a":1}');
  assert.equal(built.init.headers['Content-Type'], 'application/merge-patch+json');
});

test('common statuses get a plain-language hint, 429 with its Retry-After', () => {
  const { hint } = load();
  assert.match(hint(401), /key is missing or wrong/);
  assert.match(hint(403), /not subscribed/);
  assert.match(hint(404), /Nothing was found/);
  assert.match(hint(429, '12'), /limit of your plan\. Try again in 12 seconds/);
  assert.match(hint(503), /having trouble \(status 503\)/);
  assert.equal(hint(200), '');
});

test('on load the forms are enabled and the key saved by the portal is filled in', () => {
  const parts = { key: field({}, ''), send: field({}, ''), note: field({}, '') };
  const f = form({ 'data-method': 'GET', 'data-path': '/x', 'data-key-in': 'header' }, parts);
  load({ forms: [f], storage: { 'gatehouse.key': 'gh_test_saved' } });
  assert.equal(parts.key.value, 'gh_test_saved');
  assert.equal(parts.send.disabled, false);
  assert.equal(parts.note.hidden, true);
  assert.equal(typeof f.listeners.submit, 'function');
  assert.equal(typeof parts.key.listeners.change, 'function', 'a typed key is shared with the other forms');
});

test('a key in the query is masked in the request line, and only there', () => {
  const { buildRequest } = load();
  const query = form({ 'data-method': 'GET', 'data-path': '/x', 'data-key-in': 'query', 'data-key-name': 'api_key' },
    { key: field({}, 'k+y/1') });
  const built = buildRequest(query, 'http://gw.test');
  assert.equal(built.url, 'http://gw.test/x?api_key=k%2By%2F1');
  assert.equal(built.keyInQuery, 'k+y/1');
  const header = form({ 'data-method': 'GET', 'data-path': '/x', 'data-key-in': 'header' }, { key: field({}, 'k') });
  assert.equal(buildRequest(header, 'http://gw.test').keyInQuery, '');
});
