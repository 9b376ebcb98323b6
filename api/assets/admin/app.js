// apikeyd admin console: API keys, roles and user roles over the VAMS-compatible JSON API.
//
// Plain ES2020, no dependencies, no build step; served same-origin under a strict CSP, so every
// element is built with DOM calls (never innerHTML with server data) and no style is set inline.
// The admin key lives in sessionStorage only: it dies with the tab and is dropped on sign-out.
'use strict';

(() => {
  const STORAGE_KEY = 'apikeyd.adminKey';
  const DESCRIPTION_MAX = 256;
  const DEFAULT_TIME = '23:59:59';
  const USER_ID_RE = /^[\w\-.+@]{3,256}$/;
  const ROLE_NAME_RE = /^[a-zA-Z0-9\-._\s]{1,256}$/;
  const MAX_PAGES = 100; // bound for NextToken loops: a broken server must not spin the page
  // The API lives at the origin's root, or under a prefix when a proxy mounts apikeyd elsewhere.
  const BASE = window.location.pathname.replace(/\/admin\/.*$/, '');

  const $ = (sel, root = document) => root.querySelector(sel);

  /** Builds an element: el('td', {className: 'x'}, 'text', childNode). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k in node) node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // ---------------------------------------------------------------- formatting

  const DATE_ONLY_RE = /^\d{4}-\d{2}-\d{2}$/;

  /** Formats an ISO timestamp as "YYYY-MM-DD HH:MM:SS UTC"; anything unparseable is shown as is. */
  function fmtUtc(value) {
    if (!value) return '';
    if (DATE_ONLY_RE.test(value)) return value;
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) return String(value);
    const iso = d.toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  }

  /** Splits a stored expiry into the values of a date and a time input. */
  function splitExpiry(value) {
    if (!value) return { date: '', time: DEFAULT_TIME };
    if (DATE_ONLY_RE.test(value)) return { date: value, time: DEFAULT_TIME };
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) return { date: '', time: DEFAULT_TIME };
    const iso = d.toISOString();
    return { date: iso.slice(0, 10), time: iso.slice(11, 19) };
  }

  /** Joins date and time inputs into the wire format `YYYY-MM-DDTHH:MM:SSZ`. */
  function joinExpiry(date, time) {
    let t = time || DEFAULT_TIME;
    if (t.length === 5) t += ':00'; // browsers drop ":00" seconds from time inputs
    return `${date}T${t}Z`;
  }

  function isPast(expiresAt) {
    if (!expiresAt) return false;
    const d = new Date(DATE_ONLY_RE.test(expiresAt) ? `${expiresAt}T23:59:59Z` : expiresAt);
    return !Number.isNaN(d.getTime()) && d.getTime() <= Date.now();
  }

  /** A table cell holding a timestamp: date on one line, time under it, the raw value as tooltip. */
  function timeCell(value, ...extra) {
    const text = fmtUtc(value);
    const [day, ...rest] = text.split(' ');
    const content = rest.length
      ? [el('span', { className: 'ts-day' }, day), ' ', el('span', { className: 'ts-time' }, rest.join(' '))]
      : [text];
    return el('td', { className: 'ts', title: value || '' }, ...content, ...extra);
  }

  const isActive = (item) => String(item.isActive) === 'true';
  const todayUtc = () => new Date().toISOString().slice(0, 10);

  function badge(text, kind) {
    return el('span', { className: `badge badge-${kind}` }, text);
  }

  // ---------------------------------------------------------------- session and API

  const session = {
    get key() { return sessionStorage.getItem(STORAGE_KEY); },
    set(key) { sessionStorage.setItem(STORAGE_KEY, key); },
    clear() { sessionStorage.removeItem(STORAGE_KEY); },
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** One JSON request; non-2xx answers become ApiError carrying the body's `message`. */
  async function request(method, path, body, key = session.key) {
    const init = {
      method,
      cache: 'no-store',
      headers: { Accept: 'application/json', Authorization: `Bearer ${key}` },
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(BASE + path, init);
    } catch {
      throw new ApiError(0, 'Cannot reach the server. Check the connection and try again.');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok) {
      const message = data && typeof data.message === 'string' && data.message
        ? data.message : `Request failed (HTTP ${res.status})`;
      throw new ApiError(res.status, message);
    }
    return data;
  }

  /**
   * A signed-in call: a 401 means the key was revoked or expired meanwhile, so sign out. A call that
   * was started for a session since ended (a late page load or search after "Sign out") signs out
   * nobody: it must not clear the sign-in form someone is filling in.
   */
  async function call(method, path, body) {
    const key = session.key;
    if (!key) throw new ApiError(401, 'Not signed in.');
    try {
      return await request(method, path, body, key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && session.key === key) {
        signOut('Your API key is no longer valid. Sign in again.');
      }
      throw err;
    }
  }

  /** Follows VAMS `NextToken` pages of a `{"message":{"Items":[],"NextToken"}}` listing. */
  async function listAll(path) {
    const items = [];
    let token = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const url = token ? `${path}?startingToken=${encodeURIComponent(token)}` : path;
      const data = await call('GET', url);
      const body = data && typeof data.message === 'object' && data.message ? data.message : data || {};
      items.push(...(Array.isArray(body.Items) ? body.Items : []));
      token = body.NextToken;
      if (!token) break;
    }
    return items;
  }

  // ---------------------------------------------------------------- messages

  function showError(node, message) {
    node.textContent = message || '';
    node.hidden = !message;
  }

  let toastTimer = 0;
  function toast(message) {
    const node = $('#status');
    node.textContent = message;
    node.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove('show'), 5000);
  }

  const messageOf = (err) => (err instanceof Error ? err.message : String(err));

  /** Marks a field invalid, shows why in the dialog and puts the cursor there. */
  function fieldError(errorNode, input, message) {
    showError(errorNode, message);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return false;
  }

  function clearFieldErrors(form, errorNode) {
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    showError(errorNode, '');
  }

  /** Disables a form's buttons while its request runs, so a double click sends one request. */
  async function busy(form, work) {
    const buttons = [...form.querySelectorAll('button')];
    form.setAttribute('aria-busy', 'true');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      return await work();
    } finally {
      form.removeAttribute('aria-busy');
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function bindCounter(textarea, counter) {
    const update = () => {
      const n = textarea.value.length;
      counter.textContent = `${n}/${DESCRIPTION_MAX}`;
      counter.classList.toggle('near-limit', n > DESCRIPTION_MAX - 20);
    };
    textarea.addEventListener('input', update);
    return update;
  }

  // ---------------------------------------------------------------- dialogs

  const openers = new WeakMap();

  function openDialog(dialog, opener = document.activeElement) {
    openers.set(dialog, opener);
    for (const node of dialog.querySelectorAll('.error')) showError(node, '');
    dialog.showModal();
  }

  function initDialogs() {
    document.addEventListener('click', (event) => {
      const closer = event.target.closest('[data-close]');
      if (closer) closer.closest('dialog').close();
    });
    for (const dialog of document.querySelectorAll('dialog')) {
      // Focus goes back to what opened the dialog, or to the view when that is gone or disabled.
      dialog.addEventListener('close', () => {
        const opener = openers.get(dialog);
        if (opener && opener.isConnected && !opener.disabled && !opener.closest('[hidden]')) opener.focus();
        else currentView()?.focusTarget()?.focus();
      });
    }
  }

  /** The shared delete confirmation: `action` runs on confirm; its error stays in the dialog. */
  function confirmDelete({ title, body, confirmLabel = 'Delete', action }) {
    const dialog = $('#dlg-confirm');
    $('#dlg-confirm-title').textContent = title;
    $('#confirm-body').replaceChildren(...body);
    $('#confirm-submit').textContent = confirmLabel;
    confirmAction = action;
    openDialog(dialog);
  }
  let confirmAction = null;

  function initConfirm() {
    const form = $('#confirm-form');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!confirmAction) return;
      const errorNode = $('#confirm-error');
      showError(errorNode, '');
      try {
        await busy(form, confirmAction);
        confirmAction = null;
        $('#dlg-confirm').close();
      } catch (err) {
        showError(errorNode, messageOf(err));
      }
    });
    $('#dlg-confirm').addEventListener('close', () => { confirmAction = null; });
  }

  // ---------------------------------------------------------------- tables

  /**
   * A sortable, filterable table with single selection (a radio per row).
   * opts: table, filter, count, noun, idOf, labelOf, matches(item, needle), columns[], sort,
   * onSelect(item|null), onActivate(item), emptyText.
   * With opts.server ({ fetch(query) → { items, total, all }, pager, pageSize }) the server filters,
   * sorts and pages: the table holds one page, and `reload()` fetches it again.
   */
  function makeTable(opts) {
    const table = $(opts.table);
    const tbody = table.tBodies[0];
    const filterInput = $(opts.filter);
    const state = {
      items: [], needle: '', sortKey: opts.sort[0], sortDir: opts.sort[1], selected: null,
      page: 1, total: 0, all: 0, generation: 0,
    };
    const radioName = `${table.id}-select`;
    const server = opts.server || null;
    const pages = () => Math.max(1, Math.ceil(state.total / server.pageSize));

    /** Fetches the current page; a slower answer to an older query never replaces a newer one. */
    async function reload() {
      const generation = ++state.generation;
      const answer = await server.fetch({
        page: state.page, pageSize: server.pageSize, sortBy: state.sortKey,
        sortOrder: state.sortDir > 0 ? 'asc' : 'desc', search: state.needle,
      });
      if (generation !== state.generation) return;
      state.items = answer.items;
      state.total = answer.total;
      state.all = answer.all;
      if (state.page > pages()) { state.page = pages(); await reload(); return; }
      render();
    }

    let typing = null;
    function refetch(first = true) {
      if (first) state.page = 1;
      clearTimeout(typing);
      typing = setTimeout(() => reload().catch((err) => server.onError(err)), 150);
    }

    if (server) {
      const pager = $(server.pager);
      pager.querySelector('[data-page=prev]').addEventListener('click', () => {
        if (state.page > 1) { state.page -= 1; refetch(false); }
      });
      pager.querySelector('[data-page=next]').addEventListener('click', () => {
        if (state.page < pages()) { state.page += 1; refetch(false); }
      });
    }

    for (const th of table.tHead.querySelectorAll('th[data-sort]')) {
      const button = el('button', { type: 'button', className: 'sort' }, th.textContent,
        el('span', { className: 'sort-mark', 'aria-hidden': 'true' }));
      th.replaceChildren(button);
      button.addEventListener('click', () => {
        const key = th.dataset.sort;
        state.sortDir = state.sortKey === key ? -state.sortDir : 1;
        state.sortKey = key;
        if (server) refetch(); else render();
      });
    }

    filterInput.addEventListener('input', () => {
      state.needle = filterInput.value.trim().toLowerCase();
      if (server) refetch(); else render();
    });

    tbody.addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-id]');
      if (row) select(row.dataset.id);
    });
    tbody.addEventListener('dblclick', (event) => {
      const row = event.target.closest('tr[data-id]');
      if (row && opts.onActivate) opts.onActivate(byId(row.dataset.id));
    });
    tbody.addEventListener('change', (event) => {
      if (event.target.name === radioName) select(event.target.value);
    });

    const byId = (id) => state.items.find((item) => opts.idOf(item) === id) || null;

    function visibleItems() {
      if (server) return state.items;
      const dir = state.sortDir;
      const key = state.sortKey;
      const value = (item) => {
        const v = item[key];
        return Array.isArray(v) ? v.join(', ') : String(v ?? '');
      };
      return state.items
        .filter((item) => !state.needle || opts.matches(item, state.needle))
        .sort((a, b) => dir * value(a).localeCompare(value(b), undefined, { numeric: true, sensitivity: 'base' }));
    }

    function renderRow(item) {
      const id = opts.idOf(item);
      const selected = id === state.selected;
      const radio = el('input', {
        type: 'radio', name: radioName, value: id, checked: selected,
        'aria-label': `Select ${opts.labelOf(item)}`,
      });
      const row = el('tr', { dataset: { id }, className: selected ? 'selected' : '' },
        el('td', { className: 'col-select' }, radio));
      row.setAttribute('aria-selected', String(selected));
      for (const column of opts.columns) {
        const value = column(item);
        row.append(value instanceof Node && value.nodeName === 'TD' ? value : el('td', {}, value ?? ''));
      }
      return row;
    }

    function render() {
      const visible = visibleItems();
      if (state.selected && !visible.some((item) => opts.idOf(item) === state.selected)) {
        state.selected = null;
      }
      const rows = visible.map(renderRow);
      if (rows.length === 0) {
        const any = server ? state.all > 0 : state.items.length > 0;
        const text = any ? `No ${opts.noun} match the filter.` : opts.emptyText;
        rows.push(el('tr', { className: 'empty' },
          el('td', { colSpan: opts.columns.length + 1 }, text)));
      }
      tbody.replaceChildren(...rows);
      $(opts.count).textContent = server
        ? `${state.total} of ${state.all} ${opts.noun}`
        : `${visible.length} of ${state.items.length} ${opts.noun}`;
      if (server) {
        const pager = $(server.pager);
        pager.hidden = state.total <= server.pageSize;
        pager.querySelector('[data-page=label]').textContent = `Page ${state.page} of ${pages()}`;
        pager.querySelector('[data-page=prev]').disabled = state.page <= 1;
        pager.querySelector('[data-page=next]').disabled = state.page >= pages();
      }
      for (const th of table.tHead.querySelectorAll('th[data-sort]')) {
        const active = th.dataset.sort === state.sortKey;
        th.setAttribute('aria-sort', active ? (state.sortDir > 0 ? 'ascending' : 'descending') : 'none');
      }
      opts.onSelect(byId(state.selected));
    }

    function select(id) {
      state.selected = id;
      for (const row of tbody.rows) {
        const on = row.dataset.id === id;
        row.classList.toggle('selected', on);
        row.setAttribute('aria-selected', String(on));
        const radio = row.querySelector('input[type=radio]');
        if (radio) radio.checked = on;
      }
      opts.onSelect(byId(id));
    }

    return {
      setItems(items) { state.items = items.slice(); render(); },
      reload,
      upsert(item) {
        if (server) { refetch(false); return; }
        const id = opts.idOf(item);
        const i = state.items.findIndex((x) => opts.idOf(x) === id);
        if (i >= 0) state.items[i] = item; else state.items.push(item);
        render();
      },
      remove(id) {
        if (server) { refetch(false); return; }
        state.items = state.items.filter((x) => opts.idOf(x) !== id);
        render();
      },
      select(id) { select(id); },
      selected() { return byId(state.selected); },
      items() { return state.items.slice(); },
      clear() {
        state.items = [];
        state.selected = null;
        filterInput.value = '';
        state.needle = '';
        state.page = 1;
        state.generation += 1;
        render();
      },
    };
  }

  function enable(ids, on) {
    for (const id of ids) $(id).disabled = !on;
  }

  // ---------------------------------------------------------------- key scope and limits

  // The server's bounds (issue 13), checked here too so a typing mistake is explained next to the
  // field before anything is sent; the server checks every value again.
  const LIMIT_MAX = 1000000;
  const PERIOD_MAX = 86400;
  const LIST_MAX = 50;
  const META_MAX_BYTES = 4096;
  const KEY_SHAPED_RE = /vams_[A-Za-z0-9_-]{40,}/;
  const ADDRESS_RE = /^[0-9A-Fa-f:.]+(\/\d{1,3})?$/;
  const SETTING_FIELDS = ['roles', 'rateLimit', 'allowedCidrs', 'meta'];

  /** The inputs of the "Scope and limits" fieldset of the dialog whose ids start with `prefix`. */
  const settingInputs = (prefix) => ({
    roles: $(`#${prefix}-roles`),
    limit: $(`#${prefix}-rate-limit`),
    period: $(`#${prefix}-rate-period`),
    cidrs: $(`#${prefix}-cidrs`),
    meta: $(`#${prefix}-meta`),
    metaError: $(`#${prefix}-meta-error`),
  });

  /** The entries of a list field, without blanks and repeats. */
  const splitList = (text, separators) => [...new Set(text.split(separators).map((s) => s.trim()).filter(Boolean))];

  /** A whole number in [min, max] from a number input, or null. */
  function wholeNumber(input, min, max) {
    const text = input.value.trim();
    if (!/^\d+$/.test(text)) return null;
    const n = Number(text);
    return n >= min && n <= max ? n : null;
  }

  /**
   * Reads the metadata text: `{ value }` (null when empty) or `{ problem }`. The messages never quote
   * the text, which may hold what someone pasted by mistake.
   */
  function readMeta(text) {
    if (!text.trim()) return { value: null };
    let value;
    try { value = JSON.parse(text); } catch {
      return { problem: 'Metadata is not valid JSON. Write an object such as {"team": "ci"}.' };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { problem: 'Metadata must be a JSON object in braces, such as {"team": "ci"}.' };
    }
    const compact = JSON.stringify(value);
    const bytes = new TextEncoder().encode(compact).length;
    if (bytes > META_MAX_BYTES) {
      return { problem: `Metadata is ${bytes} bytes as JSON; at most ${META_MAX_BYTES} are allowed.` };
    }
    if (KEY_SHAPED_RE.test(compact)) return { problem: 'Metadata must not contain an API key. Remove it.' };
    return { value };
  }

  /** Shows (or, with '', hides) the metadata error under its field. */
  function showMetaError(inputs, problem) {
    showError(inputs.metaError, problem);
    if (problem) inputs.meta.setAttribute('aria-invalid', 'true');
    else inputs.meta.removeAttribute('aria-invalid');
  }

  /**
   * Clears the metadata error as soon as the text is fixed. It is shown on submit only: shown when
   * the field is left, it would move the buttons under a pointer on its way to press one.
   */
  function bindMetaCheck(prefix) {
    const inputs = settingInputs(prefix);
    inputs.meta.addEventListener('input', () => {
      if (!inputs.metaError.hidden && !readMeta(inputs.meta.value).problem) showMetaError(inputs, '');
    });
  }

  /**
   * The four settings as wire values, null for each left empty; or null after showing why not.
   * Roles are comma-separated (a role name may hold spaces); networks by commas or new lines.
   */
  function readSettings(prefix, errorNode) {
    const f = settingInputs(prefix);
    showMetaError(f, ''); // from an earlier submit; checked again below
    const fail = (input, message) => fieldError(errorNode, input, message) || null;
    const roles = splitList(f.roles.value, ',');
    if (roles.length > LIST_MAX) return fail(f.roles, `A key can be scoped to at most ${LIST_MAX} roles.`);
    const badRole = roles.find((r) => !ROLE_NAME_RE.test(r));
    if (badRole !== undefined) {
      return fail(f.roles, `"${badRole}" is not a role name: use letters, digits, spaces and - . _, and commas between roles.`);
    }
    let rateLimit = null;
    const rateGiven = [f.limit, f.period].some((i) => i.value.trim() || i.validity.badInput);
    if (rateGiven) {
      const limit = wholeNumber(f.limit, 1, LIMIT_MAX);
      if (limit === null) {
        return fail(f.limit, `Enter the number of requests, a whole number from 1 to ${LIMIT_MAX}, or leave both rate limit fields empty.`);
      }
      const periodSeconds = wholeNumber(f.period, 1, PERIOD_MAX);
      if (periodSeconds === null) {
        return fail(f.period, `Enter the period in seconds, a whole number from 1 to ${PERIOD_MAX} (one day), or leave both rate limit fields empty.`);
      }
      rateLimit = { limit, periodSeconds };
    }
    const cidrs = splitList(f.cidrs.value, /[\s,]+/);
    if (cidrs.length > LIST_MAX) return fail(f.cidrs, `At most ${LIST_MAX} allowed networks.`);
    const badCidr = cidrs.find((c) => !ADDRESS_RE.test(c));
    if (badCidr !== undefined) {
      return fail(f.cidrs, `"${badCidr}" is not an IPv4 or IPv6 address or CIDR such as 10.0.0.0/8.`);
    }
    const meta = readMeta(f.meta.value);
    if (meta.problem) {
      showMetaError(f, meta.problem);
      f.meta.focus();
      return null;
    }
    return {
      roles: roles.length ? roles : null,
      rateLimit,
      allowedCidrs: cidrs.length ? cidrs : null,
      meta: meta.value,
    };
  }

  /** A key's settings as the server sent them, null for each it does not have. */
  const settingsOf = (item) => Object.fromEntries(SETTING_FIELDS.map((f) => [f, item[f] ?? null]));

  /** Puts a key's settings into the edit dialog's fields. */
  function fillSettings(prefix, item) {
    const f = settingInputs(prefix);
    const { roles, rateLimit, allowedCidrs, meta } = settingsOf(item);
    f.roles.value = Array.isArray(roles) ? roles.join(', ') : '';
    f.limit.value = rateLimit ? String(rateLimit.limit ?? '') : '';
    f.period.value = rateLimit ? String(rateLimit.periodSeconds ?? '') : '';
    f.cidrs.value = Array.isArray(allowedCidrs) ? allowedCidrs.join('\n') : '';
    f.meta.value = meta ? JSON.stringify(meta, null, 2) : '';
    showMetaError(f, '');
  }

  /** JSON with object keys sorted, so key order and spacing do not count as a change. */
  function canonical(value) {
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    if (value && typeof value === 'object') {
      return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
    }
    return JSON.stringify(value ?? null);
  }

  /** Roles and networks are sets (the server sorts roles): their order is no change either. */
  const UNORDERED = new Set(['roles', 'allowedCidrs']);

  /** The settings that differ from `initial`; a cleared one is null, which removes it. */
  function changedSettings(initial, current) {
    const comparable = (f, v) => canonical(UNORDERED.has(f) && Array.isArray(v) ? [...v].sort() : v);
    return Object.fromEntries(SETTING_FIELDS
      .filter((f) => comparable(f, initial[f]) !== comparable(f, current[f]))
      .map((f) => [f, current[f]]));
  }

  /** `60` → "1 min", `3600` → "1 h": the period in the largest unit that divides it. */
  function fmtPeriod(seconds) {
    const units = [[86400, 'd'], [3600, 'h'], [60, 'min']];
    const [size, unit] = units.find(([n]) => seconds % n === 0) || [1, 's'];
    return `${seconds / size} ${unit}`;
  }

  /** The Limits cell: one badge per setting the key has, the details in its tooltip. */
  function limitsCell(k) {
    const marks = [];
    const add = (text, kind, title) => {
      const mark = badge(text, kind);
      mark.title = title;
      marks.push(mark);
    };
    if (Array.isArray(k.roles)) add(`Scope: ${k.roles.join(', ')}`, 'role', 'Acts with only these of its user\'s roles');
    const rate = k.rateLimit;
    if (rate && typeof rate === 'object') {
      const period = Number(rate.periodSeconds);
      add(`${rate.limit} per ${Number.isInteger(period) && period > 0 ? fmtPeriod(period) : rate.periodSeconds}`,
        'limit', `At most ${rate.limit} requests in each ${rate.periodSeconds}-second window`);
    }
    if (Array.isArray(k.allowedCidrs)) {
      const n = k.allowedCidrs.length;
      add(n === 1 ? k.allowedCidrs[0] : `${n} networks`, 'net', `Works only from ${k.allowedCidrs.join(', ')}`);
    }
    if (k.meta && typeof k.meta === 'object') add('Meta', 'meta', JSON.stringify(k.meta));
    // Spaces between the badges, so the cell reads as separate words (screen readers, copying).
    return marks.length
      ? el('td', { className: 'limits' }, ...marks.flatMap((m, i) => (i ? [' ', m] : [m])))
      : el('td', { className: 'muted' }, 'None');
  }

  // ---------------------------------------------------------------- API keys view

  /** Rows per page of the keys table: the server sorts, filters and pages a million keys. */
  const KEY_PAGE_SIZE = 50;

  const keysTable = makeTable({
    table: '#keys-table',
    filter: '#key-filter',
    count: '#key-count',
    noun: 'keys',
    emptyText: 'No API keys yet. Choose "Create API Key" to add one.',
    idOf: (k) => k.apiKeyId,
    labelOf: (k) => k.apiKeyName,
    sort: ['createdAt', -1],
    matches: (k, needle) => [k.apiKeyName, k.userId, k.description]
      .some((v) => String(v ?? '').toLowerCase().includes(needle)),
    columns: [
      (k) => el('td', { className: 'strong name', title: k.apiKeyName }, k.apiKeyName),
      (k) => el('td', { className: 'mono nowrap' }, k.apiKeyId),
      (k) => el('td', { className: 'wrap' }, k.description),
      (k) => k.userId,
      (k) => k.createdBy,
      (k) => timeCell(k.createdAt),
      (k) => (k.expiresAt
        ? timeCell(k.expiresAt, isPast(k.expiresAt) ? badge('Expired', 'warn') : null)
        : el('td', { className: 'muted' }, 'Never')),
      (k) => el('td', {}, isActive(k) ? badge('Active', 'ok') : badge('Inactive', 'off'), exposedBadge(k)),
      (k) => (k.lastUsedAt
        ? timeCell(k.lastUsedAt, k.lastUsedFrom ? el('span', { className: 'muted' }, ` ${k.lastUsedFrom}`) : null)
        : el('td', { className: 'muted' }, 'Never')),
      limitsCell,
    ],
    onSelect: (k) => enable(['#key-edit', '#key-rotate', '#key-delete', '#key-audit'], Boolean(k)),
    onActivate: (k) => openEditKey(k),
    server: {
      pager: '#key-pager',
      pageSize: KEY_PAGE_SIZE,
      fetch: fetchKeyPage,
      onError: (err) => showError($('#keys-error'), messageOf(err)),
    },
  });

  /** One page of keys, sorted and searched by the server, with the match count and the total. */
  async function fetchKeyPage(query) {
    const params = new URLSearchParams({
      page: String(query.page), pageSize: String(query.pageSize),
      sortBy: query.sortBy, sortOrder: query.sortOrder,
    });
    if (query.search) params.set('search', query.search);
    // "Unused for N days" / "Expiring within N days": one `name=N` condition, or none.
    const condition = $('#key-condition').value;
    if (condition) {
      const [name, days] = condition.split('=');
      params.set(name, days);
    }
    const narrowed = Boolean(query.search || condition);
    const pageOf = (p) => call('GET', `/auth/api-keys?${p}`);
    const everything = new URLSearchParams({ pageSize: '1' });
    const [data, all] = await Promise.all([
      pageOf(params), narrowed ? pageOf(everything) : null,
    ]);
    const total = Number(data && data.totalCount) || 0;
    return {
      items: (data && Array.isArray(data.Items) ? data.Items : []).map(withoutSecret),
      total,
      all: all ? Number(all.totalCount) || 0 : total,
    };
  }

  /** A key as the table keeps it: never with its plaintext value. */
  function withoutSecret(item) {
    const { apiKey, ...rest } = item; // eslint-disable-line no-unused-vars
    return rest;
  }

  async function loadKeys() {
    const errorNode = $('#keys-error');
    try {
      await keysTable.reload();
      showError(errorNode, '');
    } catch (err) {
      showError(errorNode, messageOf(err));
    }
  }

  function syncTimeInput(dateInput, timeInput, hint) {
    timeInput.disabled = !dateInput.value;
    if (hint) {
      hint.textContent = dateInput.value
        ? `Expires ${dateInput.value} at ${timeInput.value || DEFAULT_TIME} UTC.`
        : 'No expiration: the key never expires.';
    }
  }

  function initCreateKey() {
    const dialog = $('#dlg-key-create');
    const form = $('#key-create-form');
    const date = $('#kc-date');
    const time = $('#kc-time');
    const desc = $('#kc-desc');
    const errorNode = $('#kc-error');
    const updateCounter = bindCounter(desc, $('#kc-desc-count'));
    date.addEventListener('input', () => syncTimeInput(date, time));
    bindMetaCheck('kc');

    $('#key-create').addEventListener('click', (event) => {
      form.reset();
      clearFieldErrors(form, errorNode);
      time.value = DEFAULT_TIME;
      date.min = todayUtc();
      syncTimeInput(date, time);
      updateCounter();
      fillUserSuggestions();
      openDialog(dialog, event.currentTarget);
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form, errorNode);
      const body = readCreateKey(form, errorNode);
      if (!body) return;
      try {
        const created = await busy(form, () => call('POST', '/auth/api-keys', body));
        dialog.close();
        form.reset();
        const item = withoutSecret(created || {});
        if (item.apiKeyId) {
          keysTable.upsert(item);
          keysTable.select(item.apiKeyId);
        }
        showSecret(body.apiKeyName, created && created.apiKey);
        loadKeys();
      } catch (err) {
        showError(errorNode, messageOf(err));
      }
    });
  }

  /** Validates the create form; returns the POST body or null after showing why not. */
  function readCreateKey(form, errorNode) {
    const name = $('#kc-name');
    const user = $('#kc-user');
    const desc = $('#kc-desc');
    const date = $('#kc-date');
    const apiKeyName = name.value.trim();
    const userId = user.value.trim();
    const description = desc.value.trim();
    if (!apiKeyName) return fieldError(errorNode, name, 'Enter a name for the key.') || null;
    if (!USER_ID_RE.test(userId)) {
      return fieldError(errorNode, user,
        'Enter a user ID of 3 to 256 letters, digits or _ - . + @ characters.') || null;
    }
    if (!description) return fieldError(errorNode, desc, 'Enter a description.') || null;
    const body = { apiKeyName, userId, description };
    if (date.value) {
      body.expiresAt = joinExpiry(date.value, $('#kc-time').value);
      if (isPast(body.expiresAt)) {
        return fieldError(errorNode, date, 'The expiration must be in the future.') || null;
      }
    }
    const settings = readSettings('kc', errorNode);
    if (!settings) return null;
    for (const [field, value] of Object.entries(settings)) {
      if (value !== null) body[field] = value; // on create, an empty field sets nothing
    }
    return body;
  }

  /** Offers the users that have roles (the only ones a key can be made for) in the User ID box. */
  async function fillUserSuggestions() {
    try {
      const users = userRolesTable.items().length ? userRolesTable.items() : await listAll('/user-roles');
      $('#kc-user-list').replaceChildren(...users.map((u) => el('option', { value: u.userId })));
    } catch {
      // Suggestions are a convenience; the field works without them.
    }
  }

  // The plaintext key exists only between creation (or rotation) and closing this dialog.
  function showSecret(name, key, { title = 'API key created', note = '', opener = $('#key-create') } = {}) {
    const value = $('#ks-value');
    value.value = key || '';
    $('#ks-name').textContent = name;
    $('#dlg-key-secret-title').textContent = title;
    $('#ks-note').textContent = note;
    $('#ks-note').hidden = !note;
    $('#ks-copy-status').textContent = key ? '' : 'The server did not return a key value.';
    openDialog($('#dlg-key-secret'), opener);
  }

  /** A leak report deactivated the key (until its next rotation); the source is in the tooltip. */
  function exposedBadge(k) {
    if (!k.exposedAt) return null;
    const mark = badge('Exposed', 'warn');
    mark.title = `Reported leaked ${fmtUtc(k.exposedAt)}: ${k.exposureSource || ''}`;
    return mark;
  }

  /** Grace choices of the rotate confirmation, in seconds; the server caps it at the key's expiry. */
  const GRACE_CHOICES = [
    [0, 'None: the current key stops now'], [3600, '1 hour'], [86400, '24 hours'],
    [604800, '7 days'], [2592000, '30 days'],
  ];

  function initRotateKey() {
    $('#key-rotate').addEventListener('click', () => {
      const item = keysTable.selected();
      if (!item) return;
      const grace = el('select', { id: 'rotate-grace' },
        ...GRACE_CHOICES.map(([seconds, label]) => el('option', { value: String(seconds), selected: seconds === 86400 }, label)));
      confirmDelete({
        title: 'Rotate API key',
        body: [
          el('p', {}, 'Give the API key ', el('strong', {}, item.apiKeyName), ' (',
            el('code', {}, item.apiKeyId), ') a new value?'),
          el('div', { className: 'field' }, el('label', { htmlFor: 'rotate-grace' }, 'Current key keeps working for'), grace),
          el('p', { className: 'hint' }, 'The new value is shown once. Update the applications using this key before the current value stops.'),
        ],
        confirmLabel: 'Rotate',
        action: async () => {
          const path = `/auth/api-keys/${encodeURIComponent(item.apiKeyId)}/rotate`;
          const rotated = await call('POST', path, { gracePeriodSeconds: Number(grace.value) });
          const until = rotated && rotated.previousKeyExpiresAt;
          const note = until && until !== rotated.rotatedAt
            ? `The previous key keeps working until ${fmtUtc(until)}.`
            : 'The previous key no longer works.';
          // After the confirmation has closed, so focus returns to the table when Done is pressed.
          setTimeout(() => showSecret(item.apiKeyName, rotated && rotated.apiKey,
            { title: 'API key rotated', note, opener: $('#key-rotate') }), 0);
          loadKeys();
        },
      });
    });
  }

  function initSecret() {
    const dialog = $('#dlg-key-secret');
    const value = $('#ks-value');
    const status = $('#ks-copy-status');
    $('#ks-copy').addEventListener('click', async () => {
      if (!value.value) return;
      try {
        await navigator.clipboard.writeText(value.value);
        status.textContent = 'Copied to the clipboard.';
      } catch {
        value.focus();
        value.select();
        let copied = false;
        try { copied = document.execCommand('copy'); } catch { copied = false; }
        status.textContent = copied
          ? 'Copied to the clipboard.'
          : 'The key is selected: press Ctrl+C (⌘C on a Mac) to copy it.';
      }
    });
    value.addEventListener('focus', () => value.select());
    // Forget the key in the same task that hides the dialog: the 'close' event runs a task later, so
    // clearing only there leaves the key in the DOM after the dialog is gone. Done (capture phase, before
    // the shared closer) and Escape ('cancel') clear at once; 'close' stays for any other way out.
    const forget = () => {
      value.value = '';
      $('#ks-name').textContent = '';
      status.textContent = '';
      $('#ks-note').textContent = '';
    };
    dialog.querySelector('[data-close]').addEventListener('click', forget, { capture: true });
    dialog.addEventListener('cancel', forget);
    dialog.addEventListener('close', forget);
  }

  let editing = null; // { item, initial } of the key in the edit dialog

  function openEditKey(item) {
    if (!item) return;
    const { date, time } = splitExpiry(item.expiresAt);
    const initial = {
      description: item.description || '', date, time, active: isActive(item), settings: settingsOf(item),
    };
    editing = { item, initial };
    $('#ke-name').value = item.apiKeyName || '';
    $('#ke-id').value = item.apiKeyId;
    $('#ke-desc').value = initial.description;
    $('#ke-date').value = date;
    $('#ke-date').min = todayUtc();
    $('#ke-time').value = time;
    $('#ke-active').checked = initial.active;
    fillSettings('ke', item);
    $('#ke-desc').dispatchEvent(new Event('input'));
    syncTimeInput($('#ke-date'), $('#ke-time'), $('#ke-expiry-hint'));
    clearFieldErrors($('#key-edit-form'), $('#ke-error'));
    openDialog($('#dlg-key-edit'), $('#key-edit'));
  }

  function initEditKey() {
    const form = $('#key-edit-form');
    const date = $('#ke-date');
    const time = $('#ke-time');
    const hint = $('#ke-expiry-hint');
    const errorNode = $('#ke-error');
    bindCounter($('#ke-desc'), $('#ke-desc-count'));
    date.addEventListener('input', () => syncTimeInput(date, time, hint));
    time.addEventListener('input', () => syncTimeInput(date, time, hint));
    bindMetaCheck('ke');
    $('#ke-clear').addEventListener('click', () => {
      date.value = '';
      time.value = DEFAULT_TIME;
      syncTimeInput(date, time, hint);
      date.focus();
    });
    $('#key-edit').addEventListener('click', () => openEditKey(keysTable.selected()));
    $('#dlg-key-edit').addEventListener('close', () => { editing = null; });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!editing) return;
      clearFieldErrors(form, errorNode);
      const changes = readKeyChanges(editing.initial, errorNode);
      if (!changes) return;
      const { item } = editing;
      try {
        const updated = await busy(form, () => call('PUT', `/auth/api-keys/${encodeURIComponent(item.apiKeyId)}`, changes));
        $('#dlg-key-edit').close();
        if (updated && updated.apiKeyId) keysTable.upsert(withoutSecret(updated));
        else await loadKeys();
        toast(`API key "${item.apiKeyName}" updated.`);
      } catch (err) {
        showError(errorNode, messageOf(err));
      }
    });
  }

  /**
   * Only the fields that changed, as vamscli sends them (`isActive` is a string); a scope or limit
   * emptied is sent as null, which clears it.
   */
  function readKeyChanges(initial, errorNode) {
    const desc = $('#ke-desc');
    const date = $('#ke-date');
    const time = $('#ke-time');
    const changes = {};
    const description = desc.value.trim();
    if (description !== initial.description.trim()) {
      if (!description) return fieldError(errorNode, desc, 'Enter a description.') || null;
      changes.description = description;
    }
    if (date.value !== initial.date || (date.value && time.value !== initial.time)) {
      changes.expiresAt = date.value ? joinExpiry(date.value, time.value) : '';
      if (isPast(changes.expiresAt)) {
        return fieldError(errorNode, date, 'The expiration must be in the future.') || null;
      }
    }
    const active = $('#ke-active').checked;
    if (active !== initial.active) changes.isActive = active ? 'true' : 'false';
    const settings = readSettings('ke', errorNode);
    if (!settings) return null;
    Object.assign(changes, changedSettings(initial.settings, settings));
    if (Object.keys(changes).length === 0) {
      return fieldError(errorNode, desc, 'Nothing to update: no field was changed.') || null;
    }
    return changes;
  }

  function initDeleteKey() {
    $('#key-delete').addEventListener('click', () => {
      const item = keysTable.selected();
      if (!item) return;
      confirmDelete({
        title: 'Delete API key',
        body: [
          el('p', {}, 'Delete the API key ', el('strong', {}, item.apiKeyName), ' (',
            el('code', {}, item.apiKeyId), ')?'),
          el('p', { className: 'warning' },
            'Applications using this key lose access immediately. This cannot be undone; to revoke access for a while, deactivate the key instead.'),
        ],
        action: async () => {
          const res = await call('DELETE', `/auth/api-keys/${encodeURIComponent(item.apiKeyId)}`);
          keysTable.remove(item.apiKeyId);
          toast((res && res.message) || `API key "${item.apiKeyName}" deleted.`);
        },
      });
    });
  }

  /** A 404 from a server without the audit route means "not available", not "no such key". */
  function auditFailure(err) {
    if (!(err instanceof ApiError) || err.status !== 404) return messageOf(err);
    return /api key not found/i.test(err.message)
      ? 'This API key no longer exists. Refresh the list.'
      : 'Audit not available';
  }

  function initAudit() {
    $('#key-audit').addEventListener('click', async (event) => {
      const item = keysTable.selected();
      if (!item) return;
      const table = $('#audit-table');
      const message = $('#audit-message');
      $('#audit-subject').textContent = `${item.apiKeyName} (${item.apiKeyId})`;
      table.hidden = true;
      table.tBodies[0].replaceChildren();
      message.textContent = 'Loading…';
      openDialog($('#dlg-audit'), event.currentTarget);
      try {
        const data = await call('GET', `/auth/api-keys/${encodeURIComponent(item.apiKeyId)}/audit`);
        const events = (data && Array.isArray(data.Items) ? data.Items : [])
          .map((e, i) => ({ e, i, t: Date.parse(e.time) || 0 }))
          .sort((a, b) => b.t - a.t || b.i - a.i) // newest first; same instant: later in the log first
          .map(({ e }) => e);
        table.tBodies[0].replaceChildren(...events.map((e) => el('tr', {},
          timeCell(e.time),
          el('td', {}, e.action ?? ''),
          el('td', {}, e.actor ?? ''),
          el('td', {}, Array.isArray(e.changedFields) && e.changedFields.length ? e.changedFields.join(', ') : '—'))));
        table.hidden = events.length === 0;
        message.textContent = events.length
          ? `${events.length} ${events.length === 1 ? 'event' : 'events'}, newest first`
          : 'No audit events recorded for this key.';
      } catch (err) {
        message.textContent = auditFailure(err);
      }
    });
  }

  // ---------------------------------------------------------------- roles view

  const rolesTable = makeTable({
    table: '#roles-table',
    filter: '#role-filter',
    count: '#role-count',
    noun: 'roles',
    emptyText: 'No roles yet.',
    idOf: (r) => r.roleName,
    labelOf: (r) => r.roleName,
    sort: ['roleName', 1],
    matches: (r, needle) => [r.roleName, r.description].some((v) => String(v ?? '').toLowerCase().includes(needle)),
    columns: [
      (r) => el('td', { className: 'strong' }, r.roleName),
      (r) => el('td', { className: 'wrap' }, r.description ?? ''),
      (r) => (r.mfaRequired === true || r.mfaRequired === 'true' ? 'Yes' : 'No'),
      (r) => r.source ?? '',
      (r) => r.sourceIdentifier ?? '',
      (r) => timeCell(r.createdOn),
    ],
    onSelect: (r) => enable(['#role-edit', '#role-delete'], Boolean(r)),
    onActivate: (r) => openRole(r),
  });

  async function loadRoles() {
    try {
      rolesTable.setItems(await listAll('/roles'));
      showError($('#roles-error'), '');
    } catch (err) {
      showError($('#roles-error'), messageOf(err));
    }
  }

  let roleEditing = null; // the role in the dialog, or null when creating

  function openRole(role) {
    roleEditing = role || null;
    const form = $('#role-form');
    form.reset();
    clearFieldErrors(form, $('#rf-error'));
    $('#dlg-role-title').textContent = role ? 'Edit role' : 'Create role';
    $('#rf-submit').textContent = role ? 'Save role' : 'Create role';
    $('#rf-name').value = role ? role.roleName : '';
    $('#rf-name').readOnly = Boolean(role);
    $('#rf-desc').value = role ? role.description || '' : '';
    $('#rf-mfa').checked = Boolean(role && (role.mfaRequired === true || role.mfaRequired === 'true'));
    $('#rf-desc').dispatchEvent(new Event('input'));
    openDialog($('#dlg-role'), role ? $('#role-edit') : $('#role-create'));
  }

  function initRoles() {
    const form = $('#role-form');
    const errorNode = $('#rf-error');
    bindCounter($('#rf-desc'), $('#rf-desc-count'));
    $('#role-create').addEventListener('click', () => openRole(null));
    $('#role-edit').addEventListener('click', () => openRole(rolesTable.selected()));
    $('#role-refresh').addEventListener('click', loadRoles);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form, errorNode);
      const name = $('#rf-name');
      const desc = $('#rf-desc');
      const roleName = name.value.trim();
      const description = desc.value.trim();
      if (!ROLE_NAME_RE.test(roleName)) {
        fieldError(errorNode, name, 'Enter a role name of letters, digits, spaces and - . _ only.');
        return;
      }
      if (!description) { fieldError(errorNode, desc, 'Enter a description.'); return; }
      // VAMS overwrites omitted fields on update, so an edit sends the whole role.
      const body = { roleName, description };
      if ($('#rf-mfa').checked || roleEditing) body.mfaRequired = $('#rf-mfa').checked;
      if (roleEditing && roleEditing.source) body.source = roleEditing.source;
      if (roleEditing && roleEditing.sourceIdentifier) body.sourceIdentifier = roleEditing.sourceIdentifier;
      try {
        const res = await busy(form, () => call(roleEditing ? 'PUT' : 'POST', '/roles', body));
        $('#dlg-role').close();
        toast((res && typeof res.message === 'string' && res.message) || `Role ${roleName} saved.`);
        await loadRoles();
        rolesTable.select(roleName);
      } catch (err) {
        showError(errorNode, messageOf(err));
      }
    });
    $('#role-delete').addEventListener('click', () => {
      const role = rolesTable.selected();
      if (!role) return;
      confirmDelete({
        title: 'Delete role',
        body: [
          el('p', {}, 'Delete the role ', el('strong', {}, role.roleName), '?'),
          el('p', { className: 'warning' },
            'Every user loses this role. API keys of users left without any role stop working.'),
        ],
        action: async () => {
          const res = await call('DELETE', `/roles/${encodeURIComponent(role.roleName)}`);
          rolesTable.remove(role.roleName);
          toast(res && res.message && res.message !== 'success' ? res.message : `Role ${role.roleName} deleted.`);
        },
      });
    });
  }

  // ---------------------------------------------------------------- user roles view

  const userRolesTable = makeTable({
    table: '#ur-table',
    filter: '#ur-filter',
    count: '#ur-count',
    noun: 'users',
    emptyText: 'No user has a role yet.',
    idOf: (u) => u.userId,
    labelOf: (u) => u.userId,
    sort: ['userId', 1],
    matches: (u, needle) => [u.userId, ...(u.roleName || [])].some((v) => String(v ?? '').toLowerCase().includes(needle)),
    columns: [
      (u) => el('td', { className: 'strong' }, u.userId),
      (u) => el('td', {}, ...(Array.isArray(u.roleName) ? u.roleName : [u.roleName])
        .filter(Boolean).map((r) => badge(r, 'role'))),
      (u) => timeCell(u.createdOn),
    ],
    onSelect: (u) => enable(['#ur-edit', '#ur-delete'], Boolean(u)),
    onActivate: (u) => openUserRoles(u),
  });

  async function loadUserRoles() {
    try {
      userRolesTable.setItems(await listAll('/user-roles'));
      showError($('#ur-error'), '');
    } catch (err) {
      showError($('#ur-error'), messageOf(err));
    }
  }

  let urEditing = null; // the user in the dialog, or null when assigning to a new user

  async function openUserRoles(user) {
    urEditing = user || null;
    const form = $('#ur-form');
    form.reset();
    clearFieldErrors(form, $('#urf-error'));
    $('#dlg-ur-title').textContent = user ? `Roles of ${user.userId}` : 'Assign roles';
    $('#urf-user').value = user ? user.userId : '';
    $('#urf-user').readOnly = Boolean(user);
    const list = $('#urf-roles');
    list.replaceChildren(el('p', { className: 'muted' }, 'Loading roles…'));
    openDialog($('#dlg-ur'), user ? $('#ur-edit') : $('#ur-create'));
    try {
      const roles = rolesTable.items().length ? rolesTable.items() : await listAll('/roles');
      const have = new Set(user ? user.roleName || [] : []);
      const names = [...new Set([...roles.map((r) => r.roleName), ...have])].sort();
      list.replaceChildren(...(names.length ? names.map((name, i) => el('div', { className: 'check' },
        el('input', { type: 'checkbox', id: `urf-role-${i}`, value: name, checked: have.has(name) }),
        el('label', { htmlFor: `urf-role-${i}` }, name)))
        : [el('p', { className: 'muted' }, 'No roles exist yet: create one on the Roles page first.')]));
    } catch (err) {
      list.replaceChildren(el('p', { className: 'error' }, messageOf(err)));
    }
  }

  function initUserRoles() {
    const form = $('#ur-form');
    const errorNode = $('#urf-error');
    $('#ur-create').addEventListener('click', () => openUserRoles(null));
    $('#ur-edit').addEventListener('click', () => openUserRoles(userRolesTable.selected()));
    $('#ur-refresh').addEventListener('click', loadUserRoles);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form, errorNode);
      const user = $('#urf-user');
      const userId = user.value.trim();
      const roleName = [...form.querySelectorAll('#urf-roles input:checked')].map((c) => c.value);
      if (!USER_ID_RE.test(userId)) {
        fieldError(errorNode, user, 'Enter a user ID of 3 to 256 letters, digits or _ - . + @ characters.');
        return;
      }
      if (roleName.length === 0) {
        fieldError(errorNode, form.querySelector('#urf-roles input'),
          urEditing ? 'Select at least one role, or delete this user\'s roles instead.' : 'Select at least one role.');
        return;
      }
      try {
        const res = await busy(form, () => call(urEditing ? 'PUT' : 'POST', '/user-roles', { userId, roleName }));
        $('#dlg-ur').close();
        toast((res && typeof res.message === 'string' && res.message) || 'User roles saved.');
        await loadUserRoles();
        userRolesTable.select(userId);
      } catch (err) {
        showError(errorNode, messageOf(err));
      }
    });
    $('#ur-delete').addEventListener('click', () => {
      const user = userRolesTable.selected();
      if (!user) return;
      confirmDelete({
        title: 'Delete user roles',
        body: [
          el('p', {}, 'Remove every role of ', el('strong', {}, user.userId), '?'),
          el('p', { className: 'warning' }, 'API keys of this user stop working until the user has a role again.'),
        ],
        action: async () => {
          const res = await call('DELETE', '/user-roles', { userId: user.userId });
          userRolesTable.remove(user.userId);
          toast((res && typeof res.message === 'string' && res.message) || 'User roles deleted.');
        },
      });
    });
  }

  // ---------------------------------------------------------------- navigation and sign-in

  const views = {
    keys: { section: '#view-keys', load: loadKeys, title: '#keys-title' },
    roles: { section: '#view-roles', load: loadRoles, title: '#roles-title' },
    'user-roles': { section: '#view-user-roles', load: loadUserRoles, title: '#user-roles-title' },
  };
  let activeView = null;

  function currentView() {
    if (!session.key) return { focusTarget: () => $('#signin-key') };
    const view = views[activeView] || views.keys;
    return { focusTarget: () => $(view.title) };
  }

  function route({ focus = false } = {}) {
    if (!session.key) return;
    const name = views[window.location.hash.slice(1)] ? window.location.hash.slice(1) : 'keys';
    const changed = activeView !== name;
    activeView = name;
    for (const [key, view] of Object.entries(views)) $(view.section).hidden = key !== name;
    for (const link of document.querySelectorAll('#tabs a')) {
      if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (changed) views[name].load();
    if (focus) $(views[name].title).focus();
  }

  function showSignedIn(signedIn) {
    $('#view-signin').hidden = signedIn;
    $('#tabs').hidden = !signedIn;
    $('#session').hidden = !signedIn;
    if (!signedIn) for (const view of Object.values(views)) $(view.section).hidden = true;
  }

  function signOut(message = '') {
    session.clear();
    activeView = null;
    for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
    keysTable.clear();
    $('#key-condition').value = '';
    rolesTable.clear();
    userRolesTable.clear();
    showSignedIn(false);
    showError($('#signin-error'), message);
    $('#signin-key').value = '';
    $('#signin-key').focus();
  }

  /** Checks a key against the admin-only listing; resolves with the keys or rejects with why not. */
  async function verifyKey(key) {
    try {
      return await request('GET', '/auth/api-keys?pageSize=1', undefined, key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new Error('Invalid or expired API key');
      if (err instanceof ApiError && err.status === 403) throw new Error('This key is not an admin key');
      throw err;
    }
  }

  async function signIn(key) {
    await verifyKey(key);
    session.set(key);
    showSignedIn(true);
    loadKeys();
    activeView = window.location.hash.slice(1) === 'keys' || !window.location.hash ? 'keys' : null;
    route();
  }

  function initSignIn() {
    const form = $('#signin-form');
    const input = $('#signin-key');
    const errorNode = $('#signin-error');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) { fieldError(errorNode, input, 'Enter an admin API key.'); return; }
      input.removeAttribute('aria-invalid');
      showError(errorNode, '');
      try {
        await busy(form, () => signIn(key));
        input.value = '';
        $(views[activeView].title).focus();
      } catch (err) {
        fieldError(errorNode, input, messageOf(err));
        input.select();
      }
    });
    $('#sign-out').addEventListener('click', () => signOut(''));
  }

  async function start() {
    initDialogs();
    initConfirm();
    initSignIn();
    initCreateKey();
    initSecret();
    initEditKey();
    initRotateKey();
    initDeleteKey();
    initAudit();
    initRoles();
    initUserRoles();
    $('#key-refresh').addEventListener('click', loadKeys);
    $('#key-condition').addEventListener('change', loadKeys);
    window.addEventListener('hashchange', () => route({ focus: true }));

    const key = session.key;
    if (!key) { showSignedIn(false); $('#signin-key').focus(); return; }
    try {
      await signIn(key);
    } catch (err) {
      signOut(err instanceof ApiError && err.status === 0 ? err.message : messageOf(err));
    }
  }

  start();
})();
