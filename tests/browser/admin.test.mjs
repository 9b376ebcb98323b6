// Browser tests of the apikeyd admin console (/admin/), driving Debian's chromium with playwright-core.
//
// Needs a running apikeyd: APIKEYD_URL (e.g. http://127.0.0.1:8080) and APIKEYD_ADMIN_KEY (the
// bootstrap admin key). scripts/browser-test.sh starts one on a fresh data dir and sets both.
// The steps share one page and run in order: each builds on the state the previous one left.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = (process.env.APIKEYD_URL || '').replace(/\/+$/, '');
const ADMIN_KEY = process.env.APIKEYD_ADMIN_KEY || '';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Where the key-table screenshot goes; "off" skips it.
const SCREENSHOT = process.env.APIKEYD_SCREENSHOT || path.join(REPO, 'docs/admin-keys.png');
const KEY_RE = /^vams_[A-Za-z0-9_-]{40,}$/;
const RUN = Math.random().toString(36).slice(2, 6); // names stay unique on a reused server
const STEP = { timeout: 60_000 };
// Keys created for the paging step (APIKEYD_BULK_KEYS overrides; the console must not download them all).
const BULK_KEYS = Number(process.env.APIKEYD_BULK_KEYS || 20_000);

if (!BASE || !ADMIN_KEY) {
  throw new Error('Set APIKEYD_URL and APIKEYD_ADMIN_KEY (scripts/browser-test.sh does both).');
}

let context;
let page;
let userDataDir;
const pageProblems = []; // console errors (CSP violations show up there) and uncaught exceptions

/** Retries an assertion until it passes or `ms` elapse; UI updates land asynchronously. */
async function eventually(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A direct API call from the test, as a script using a key would make it. */
async function api(method, route, key, body) {
  const res = await fetch(BASE + route, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const keyRow = (name) => page.locator('#keys-table tbody tr[data-id]', { hasText: name });

/** The text of one cell of a key's row, by column header. */
async function keyCell(name, header) {
  const headers = (await page.locator('#keys-table thead th').allTextContents()).map((t) => t.replace(/[↕▲▼]/g, '').trim());
  const index = headers.indexOf(header);
  assert.ok(index >= 0, `no column ${header} in ${headers.join('|')}`);
  return (await keyRow(name).locator('td').nth(index).textContent()).trim();
}

async function selectKey(name) {
  await page.getByRole('radio', { name: `Select ${name}`, exact: true }).check();
}

async function signIn(key) {
  await page.getByLabel('Admin API key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Fills the create dialog's "Scope and limits" fields that are given (rate is [requests, seconds]). */
async function fillSettings(dialog, { roles, rate, meta }) {
  if (roles !== undefined) await dialog.getByLabel('Roles (scope)').fill(roles);
  if (rate !== undefined) {
    await dialog.getByLabel('Requests').fill(String(rate[0]));
    await dialog.getByLabel('Per (seconds)').fill(String(rate[1]));
  }
  if (meta !== undefined) await dialog.getByLabel('Metadata (JSON object)').fill(meta);
}

/** Fills and submits the create dialog; returns the plaintext key shown once (dialog left open). */
async function createKey({ name, userId = 'admin', description, date, time, ...settings }) {
  await page.locator('#key-create').click();
  const dialog = page.locator('#dlg-key-create');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('User ID').fill(userId);
  await dialog.getByLabel('Description').fill(description);
  if (date) {
    await dialog.getByLabel('Expiration Date').fill(date);
    if (time) await dialog.getByLabel('Expiration Time (UTC)').fill(time);
  }
  await fillSettings(dialog, settings);
  await dialog.getByRole('button', { name: 'Create API Key', exact: true }).click();
  const secret = page.locator('#dlg-key-secret');
  await secret.waitFor({ state: 'visible' });
  const value = await secret.locator('#ks-value').inputValue();
  assert.match(value, KEY_RE);
  return value;
}

async function closeSecret() {
  await page.locator('#dlg-key-secret').getByRole('button', { name: 'Done' }).click();
  await page.locator('#dlg-key-secret').waitFor({ state: 'hidden' });
}

/** Everything the page holds as text: markup, form values and both web storages. */
function pageText() {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll('input, textarea')].map((i) => i.value);
    const storage = (s) => Object.keys(s).map((k) => `${k}=${s.getItem(k)}`);
    return [document.documentElement.outerHTML, ...values,
      ...storage(localStorage), ...storage(sessionStorage), document.cookie].join('\n');
  });
}

/** Submits an edit-dialog change and returns the JSON body the page sent. */
async function submitEdit() {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'PUT' && r.url().includes('/auth/api-keys/')),
    page.locator('#dlg-key-edit').getByRole('button', { name: 'Update API Key' }).click(),
  ]);
  await page.locator('#dlg-key-edit').waitFor({ state: 'hidden' });
  return request.postDataJSON();
}

async function openEdit(name) {
  await selectKey(name);
  await page.locator('#key-edit').click();
  await page.locator('#dlg-key-edit').waitFor({ state: 'visible' });
}

describe('admin console', () => {
  const first = { name: `ci-pipeline-${RUN}`, description: 'Deploys from the CI pipeline' };
  const second = { name: `nightly-backup-${RUN}`, description: 'Nightly backup job', date: '2031-06-30', time: '12:00:00' };
  let firstKey = '';

  before(async () => {
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apikeyd-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 720 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (msg) => { if (msg.type() === 'error') pageProblems.push(`console: ${msg.text()}`); });
    page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  });

  after(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('serves the page with its security headers', STEP, async () => {
    const redirect = await fetch(`${BASE}/admin`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/admin/');
    const html = await fetch(`${BASE}/admin/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type'), /^text\/html/);
    assert.match(html.headers.get('content-security-policy') || '', /script-src 'self'/);
    assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
    for (const [asset, type] of [['app.js', /javascript/], ['app.css', /^text\/css/]]) {
      const res = await fetch(`${BASE}/admin/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('content-type'), type, asset);
    }
  });

  it('rejects a wrong key and signs in with the admin key', STEP, async () => {
    await page.goto(`${BASE}/admin`);
    await signIn(`vams_${'x'.repeat(64)}`);
    await eventually(async () => assert.equal(
      (await page.locator('#signin-error').textContent()).trim(), 'Invalid or expired API key'));

    await signIn(ADMIN_KEY);
    await page.getByRole('heading', { name: 'API Key Management' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    assert.deepEqual(await context.cookies(), [], 'no cookies');
    const stored = await page.evaluate(() => Object.values({ ...sessionStorage }));
    assert.deepEqual(stored, [ADMIN_KEY], 'the key lives in sessionStorage only');
    assert.ok(!(await page.getByLabel('Admin API key').isVisible()), 'sign-in form hidden');
  });

  it('creates a key and shows its value exactly once', STEP, async () => {
    await page.locator('#key-create').click();
    const dialog = page.locator('#dlg-key-create');
    await dialog.waitFor({ state: 'visible' });
    assert.ok(await dialog.getByLabel('Expiration Time (UTC)').isDisabled(), 'time disabled without a date');
    assert.equal(await dialog.getByLabel('Expiration Time (UTC)').inputValue(), '23:59:59');
    await dialog.getByLabel('Description').fill('abc');
    assert.equal((await page.locator('#kc-desc-count').textContent()).trim(), '3/256');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    firstKey = await createKey(first);
    const secret = page.locator('#dlg-key-secret');
    assert.match(await secret.textContent(),
      /This is the only time the key is shown\. Copy it now; it cannot be retrieved later\./);
    await secret.getByRole('button', { name: 'Copy' }).click();
    await eventually(async () => assert.match(await page.locator('#ks-copy-status').textContent(), /Copied|selected/));
    const clipboard = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
    if (clipboard !== null) assert.equal(clipboard, firstKey, 'Copy puts the key on the clipboard');
    await closeSecret();
    assert.ok(!(await pageText()).includes(firstKey), 'the key left the DOM and storage');

    const res = await api('GET', '/auth/api-keys', firstKey);
    assert.equal(res.status, 200, 'the new key works (user admin has the admin role)');
  });

  it('lists the new keys with their expiry', STEP, async () => {
    await eventually(async () => assert.equal(await keyCell(first.name, 'Expires At'), 'Never'));
    assert.equal(await keyCell(first.name, 'User ID'), 'admin');
    assert.equal(await keyCell(first.name, 'Description'), first.description);
    assert.match(await keyCell(first.name, 'Active'), /^Active$/);
    assert.match(await keyCell(first.name, 'Key ID'), /^[0-9a-f-]{36}$/);

    await createKey(second);
    await page.keyboard.press('Escape'); // Escape closes the one-time dialog too
    await page.locator('#dlg-key-secret').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#ks-value').inputValue(), '');
    await eventually(async () => assert.equal(await keyCell(second.name, 'Expires At'), '2031-06-30 12:00:00 UTC'));
  });

  it('filters rows by name, user id and description', STEP, async () => {
    const total = await page.locator('#keys-table tbody tr[data-id]').count();
    assert.ok(total >= 3, `bootstrap key and two new ones, got ${total}`);
    const filter = page.getByLabel('Filter API keys');
    const count = async () => (await page.locator('#key-count').textContent()).trim();
    // The server filters: each answer lands asynchronously.
    await filter.fill(first.name.toUpperCase());
    await eventually(async () => assert.equal(await count(), `1 of ${total} keys`));
    assert.equal(await page.locator('#keys-table tbody tr[data-id]').count(), 1);
    await filter.fill('nightly BACKUP job');
    await eventually(async () => assert.equal(await page.locator('#keys-table tbody tr[data-id]').count(), 1));
    await filter.fill('no-such-key-anywhere');
    await eventually(async () => assert.equal(await count(), `0 of ${total} keys`));
    assert.match(await page.locator('#keys-table tbody').textContent(), /No keys match the filter/);
    await filter.fill('');
    await eventually(async () => assert.equal(await count(), `${total} of ${total} keys`));
  });

  it('shows when each key was last used and filters unused and expiring keys', STEP, async () => {
    const total = await page.locator('#keys-table tbody tr[data-id]').count();
    await page.locator('#key-refresh').click();
    // The first key authenticated once (above); the second never did.
    await eventually(async () => assert.match(await keyCell(first.name, 'Last used'), /UTC/));
    assert.equal(await keyCell(second.name, 'Last used'), 'Never');
    const show = page.getByLabel('Show keys');
    const rows = () => page.locator('#keys-table tbody tr[data-id]');
    const count = async () => (await page.locator('#key-count').textContent()).trim();
    await show.selectOption('unusedForDays=30');
    await eventually(async () => assert.equal(await keyRow(first.name).count(), 0));
    assert.equal(await keyRow(second.name).count(), 1, 'never used counts as unused');
    await show.selectOption('expiringWithinDays=30');
    await eventually(async () => assert.equal(await count(), `0 of ${total} keys`));
    assert.equal(await rows().count(), 0);
    await show.selectOption('');
    await eventually(async () => assert.equal(await count(), `${total} of ${total} keys`));
  });

  it('selecting a row enables Edit and Delete', STEP, async () => {
    await page.reload(); // also proves the session survives a reload
    await page.getByRole('heading', { name: 'API Key Management' }).waitFor();
    await keyRow(first.name).waitFor();
    assert.ok(await page.locator('#key-edit').isDisabled());
    assert.ok(await page.locator('#key-delete').isDisabled());
    await keyRow(first.name).locator('td').nth(3).click(); // a click anywhere on the row selects it
    assert.ok(await page.getByRole('radio', { name: `Select ${first.name}` }).isChecked());
    assert.ok(await page.locator('#key-edit').isEnabled());
    assert.ok(await page.locator('#key-delete').isEnabled());
  });

  it('edits the description, sending only that field', STEP, async () => {
    await openEdit(first.name);
    const dialog = page.locator('#dlg-key-edit');
    assert.equal(await dialog.getByLabel('Name').inputValue(), first.name);
    assert.ok(await dialog.getByLabel('Name').evaluate((i) => i.readOnly));
    assert.ok(await dialog.getByLabel('Key ID').evaluate((i) => i.readOnly));
    await dialog.getByLabel('Description').fill('Deploys from CI (rotated monthly)');
    assert.deepEqual(await submitEdit(), { description: 'Deploys from CI (rotated monthly)' });
    await eventually(async () => assert.equal(await keyCell(first.name, 'Description'), 'Deploys from CI (rotated monthly)'));
  });

  it('deactivates a key, which then stops authenticating', STEP, async () => {
    await openEdit(first.name);
    await page.locator('#dlg-key-edit').getByLabel('Active').uncheck();
    assert.deepEqual(await submitEdit(), { isActive: 'false' });
    await eventually(async () => assert.equal(await keyCell(first.name, 'Active'), 'Inactive'));
    const res = await api('GET', '/auth/api-keys', firstKey);
    assert.equal(res.status, 401, 'an inactive key is refused');
  });

  it('clears an expiry with the Clear button', STEP, async () => {
    await openEdit(second.name);
    const dialog = page.locator('#dlg-key-edit');
    assert.equal(await dialog.getByLabel('Expiration Date').inputValue(), '2031-06-30');
    assert.equal(await dialog.getByLabel('Expiration Time (UTC)').inputValue(), '12:00:00');
    await dialog.getByRole('button', { name: 'Clear' }).click();
    assert.deepEqual(await submitEdit(), { expiresAt: '' });
    await eventually(async () => assert.equal(await keyCell(second.name, 'Expires At'), 'Never'));
  });

  it('shows a server error inline in the dialog', STEP, async () => {
    await page.locator('#key-create').click();
    const dialog = page.locator('#dlg-key-create');
    await dialog.getByLabel('Name').fill(first.name);
    await dialog.getByLabel('User ID').fill('admin');
    await dialog.getByLabel('Description').fill('duplicate');
    await dialog.getByRole('button', { name: 'Create API Key', exact: true }).click();
    const error = dialog.locator('#kc-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /already exists/);
    assert.ok(await dialog.isVisible(), 'the dialog stays open with the input');
    assert.equal(await dialog.getByLabel('Name').inputValue(), first.name);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('shows the audit of a key, or that audit is unavailable', STEP, async () => {
    await selectKey(first.name);
    await page.locator('#key-audit').click();
    const dialog = page.locator('#dlg-audit');
    await dialog.waitFor({ state: 'visible' });
    await eventually(async () => assert.doesNotMatch(await page.locator('#audit-message').textContent(), /Loading/));
    const message = (await page.locator('#audit-message').textContent()).trim();
    if (message !== 'Audit not available') {
      assert.ok(await page.locator('#audit-table').isVisible(), `audit table or unavailable, got: ${message}`);
      assert.ok(await page.locator('#audit-table tbody tr').count() >= 1);
    }
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('rotates a key, showing the new value once, and badges a reported key Exposed', STEP, async () => {
    const name = `rotated-${RUN}`;
    const created = await api('POST', '/auth/api-keys', ADMIN_KEY,
      { apiKeyName: name, userId: 'admin', description: 'Rotated in the console' });
    assert.equal(created.status, 200);
    const oldKey = created.body.apiKey;
    await page.locator('#key-refresh').click();
    await keyRow(name).waitFor();
    await selectKey(name);
    await page.locator('#key-rotate').click();
    const confirm = page.locator('#dlg-confirm');
    await confirm.waitFor({ state: 'visible' });
    assert.ok((await confirm.textContent()).includes(name), 'the confirmation names the key');
    assert.equal(await confirm.getByLabel('Current key keeps working for').inputValue(), '86400');
    await confirm.getByLabel('Current key keeps working for').selectOption('3600');
    await confirm.getByRole('button', { name: 'Rotate', exact: true }).click();
    const secret = page.locator('#dlg-key-secret');
    await secret.waitFor({ state: 'visible' });
    assert.equal((await page.locator('#dlg-key-secret-title').textContent()).trim(), 'API key rotated');
    const newKey = await secret.locator('#ks-value').inputValue();
    assert.match(newKey, /^vams_[0-9A-Za-z]{49}$/);
    assert.notEqual(newKey, oldKey);
    assert.match(await page.locator('#ks-note').textContent(), /previous key keeps working until/);
    for (const key of [oldKey, newKey]) {
      assert.equal((await api('GET', '/auth/api-keys', key)).status, 200, 'both values work during the grace');
    }
    await closeSecret();
    assert.ok(!(await pageText()).includes(newKey), 'the new value is gone from the page');

    const report = await fetch(`${BASE}/auth/exposures`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ keys: [newKey], source: 'browser test paste' }),
    });
    assert.equal(report.status, 202);
    await eventually(async () => {
      await page.locator('#key-refresh').click();
      const cell = await keyCell(name, 'Active');
      assert.ok(cell.includes('Exposed') && cell.includes('Inactive'), cell);
    });
    assert.equal((await api('DELETE', `/auth/api-keys/${created.body.apiKeyId}`, ADMIN_KEY)).status, 200);
    await page.locator('#key-refresh').click();
    await eventually(async () => assert.equal(await keyRow(name).count(), 0));
  });

  it('deletes a key after confirmation', STEP, async () => {
    await selectKey(second.name);
    const id = await keyCell(second.name, 'Key ID');
    await page.locator('#key-delete').click();
    const dialog = page.locator('#dlg-confirm');
    await dialog.waitFor({ state: 'visible' });
    const text = await dialog.textContent();
    assert.ok(text.includes(second.name) && text.includes(id), 'the confirmation names the key');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await keyRow(second.name).count(), 1, 'Cancel keeps the key');

    await page.locator('#key-delete').click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await eventually(async () => assert.equal(await keyRow(second.name).count(), 0));
    const list = await api('GET', '/auth/api-keys', ADMIN_KEY);
    assert.ok(!list.body.Items.some((k) => k.apiKeyId === id), 'gone on the server too');
  });

  it('is usable from the keyboard: dialogs take focus, Escape returns it', STEP, async () => {
    await page.locator('#key-create').focus();
    await page.keyboard.press('Enter');
    await page.locator('#dlg-key-create').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'kc-name');
    await page.keyboard.press('Escape');
    await page.locator('#dlg-key-create').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'key-create');
  });

  it('manages roles and user roles; a non-admin key is refused', STEP, async () => {
    const role = `ui-role-${RUN}`;
    const user = `ui-user-${RUN}`;
    await page.getByRole('link', { name: 'Roles', exact: true }).click();
    await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
    await page.locator('#role-create').click();
    await page.locator('#dlg-role').getByLabel('Role name').fill(role);
    await page.locator('#dlg-role').getByLabel('Description').fill('Read-only UI test role');
    await page.locator('#dlg-role').getByRole('button', { name: 'Create role' }).click();
    await page.locator('#dlg-role').waitFor({ state: 'hidden' });
    await page.locator('#roles-table tbody tr', { hasText: role }).waitFor();

    await page.getByRole('link', { name: 'User roles' }).click();
    await page.locator('#ur-create').click();
    const urDialog = page.locator('#dlg-ur');
    await urDialog.getByLabel('User ID').fill(user);
    await urDialog.getByLabel(role, { exact: true }).check();
    await urDialog.getByRole('button', { name: 'Save' }).click();
    await urDialog.waitFor({ state: 'hidden' });
    await page.locator('#ur-table tbody tr', { hasText: user }).waitFor();

    await page.getByRole('link', { name: 'API keys' }).click();
    const userKey = await createKey({ name: `ui-user-key-${RUN}`, userId: user, description: 'Key of a non-admin user' });
    await closeSecret();

    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'sign-out forgets the key');
    await signIn(userKey);
    await eventually(async () => assert.equal(
      (await page.locator('#signin-error').textContent()).trim(), 'This key is not an admin key'));
    await signIn(ADMIN_KEY);
    await page.getByRole('heading', { name: 'API Key Management' }).waitFor();

    await page.getByRole('link', { name: 'User roles' }).click();
    await page.getByRole('radio', { name: `Select ${user}` }).check();
    await page.locator('#ur-delete').click();
    await page.locator('#dlg-confirm').getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(async () => assert.equal(await page.locator('#ur-table tbody tr', { hasText: user }).count(), 0));

    await page.getByRole('link', { name: 'Roles', exact: true }).click();
    await page.getByRole('radio', { name: `Select ${role}` }).check();
    await page.locator('#role-delete').click();
    await page.locator('#dlg-confirm').getByRole('button', { name: 'Delete', exact: true }).click();
    await eventually(async () => assert.equal(await page.locator('#roles-table tbody tr', { hasText: role }).count(), 0));
    await page.getByRole('link', { name: 'API keys' }).click();
  });

  it('scopes a key to one role with a rate limit, shows both, and edits the scope', STEP, async () => {
    // A user with two roles, so the scope can be narrowed to one and then moved to the other.
    const [read, write] = [`scope-read-${RUN}`, `scope-write-${RUN}`];
    const user = `scoped-user-${RUN}`;
    const name = `scoped-${RUN}`;
    for (const role of [read, write]) {
      const res = await api('POST', '/roles', ADMIN_KEY, { roleName: role, description: 'Scope test role' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const assigned = await api('POST', '/user-roles', ADMIN_KEY, { userId: user, roleName: [read, write] });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    const check = (key) => fetch(`${BASE}/auth/check`, { headers: { Authorization: `Bearer ${key}` } });
    const rolesOf = async (key) => {
      const res = await check(key);
      assert.equal(res.status, 200, 'the scoped key authenticates');
      return (await res.json()).roles;
    };

    // Metadata that is not a JSON object is explained under its field, and nothing is sent.
    await page.locator('#key-create').click();
    const dialog = page.locator('#dlg-key-create');
    await dialog.waitFor({ state: 'visible' });
    let posted = 0;
    const countPosts = (r) => { if (r.method() === 'POST' && r.url().endsWith('/auth/api-keys')) posted += 1; };
    page.on('request', countPosts);
    await dialog.getByLabel('Name').fill(name);
    await dialog.getByLabel('User ID').fill(user);
    await dialog.getByLabel('Description').fill('Scoped and rate limited');
    await fillSettings(dialog, { meta: '{team: ci}' });
    await dialog.getByRole('button', { name: 'Create API Key', exact: true }).click();
    const metaError = dialog.locator('#kc-meta-error');
    await metaError.waitFor({ state: 'visible' });
    assert.match(await metaError.textContent(), /not valid JSON/);
    assert.equal(await dialog.getByLabel('Metadata (JSON object)').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'kc-meta');
    await fillSettings(dialog, { meta: '[1, 2]' });
    await dialog.getByRole('button', { name: 'Create API Key', exact: true }).click();
    await eventually(async () => assert.match(await metaError.textContent(), /must be a JSON object/));
    page.off('request', countPosts);
    assert.equal(posted, 0, 'an invalid form sends nothing');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // Created with a scope and a limit: exactly those two settings are sent.
    const [request, key] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/auth/api-keys')),
      createKey({ name, userId: user, description: 'Scoped and rate limited', roles: read, rate: [5, 86400] }),
    ]);
    const sent = request.postDataJSON();
    assert.deepEqual(sent.roles, [read]);
    assert.deepEqual(sent.rateLimit, { limit: 5, periodSeconds: 86400 });
    assert.ok(!('allowedCidrs' in sent) && !('meta' in sent), `empty fields are not sent: ${JSON.stringify(sent)}`);
    await closeSecret();

    await eventually(async () => assert.equal(await keyCell(name, 'Limits'), `Scope: ${read} 5 per 1 d`));
    assert.equal(await keyCell(first.name, 'Limits'), 'None', 'a key without settings');
    assert.deepEqual(await rolesOf(key), [read], 'the key acts with its scope only');

    // The edit dialog shows the settings; changing the scope sends the scope alone.
    await openEdit(name);
    const edit = page.locator('#dlg-key-edit');
    assert.equal(await edit.getByLabel('Roles (scope)').inputValue(), read);
    assert.equal(await edit.getByLabel('Requests').inputValue(), '5');
    assert.equal(await edit.getByLabel('Per (seconds)').inputValue(), '86400');
    assert.equal(await edit.getByLabel('Allowed networks').inputValue(), '');
    await edit.getByLabel('Roles (scope)').fill(write);
    assert.deepEqual(await submitEdit(), { roles: [write] });
    await eventually(async () => assert.equal(await keyCell(name, 'Limits'), `Scope: ${write} 5 per 1 d`));
    assert.deepEqual(await rolesOf(key), [write], 'the new scope applies at once');
    await openEdit(name);
    assert.equal(await edit.getByLabel('Roles (scope)').inputValue(), write, 'the dialog shows the new scope');
    await edit.getByRole('button', { name: 'Cancel' }).click();

    // The limit holds: 5 valid requests per UTC day (2 made above), then 429 with Retry-After. A
    // window boundary (midnight UTC) in between resets the count once, hence the wider bound.
    let refused = null;
    for (let n = 0; n < 11 && !refused; n += 1) {
      const res = await check(key);
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(refused, 'the sixth request of the window is refused');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'with a Retry-After');

    // Emptying both rate fields clears the limit (null), and the key works again.
    await openEdit(name);
    await edit.getByLabel('Requests').fill('');
    await edit.getByLabel('Per (seconds)').fill('');
    assert.deepEqual(await submitEdit(), { rateLimit: null });
    await eventually(async () => assert.equal(await keyCell(name, 'Limits'), `Scope: ${write}`));
    assert.equal((await check(key)).status, 200, 'no limit any more');

    const id = await keyCell(name, 'Key ID');
    assert.equal((await api('DELETE', `/auth/api-keys/${id}`, ADMIN_KEY)).status, 200);
    assert.equal((await api('DELETE', '/user-roles', ADMIN_KEY, { userId: user })).status, 200);
    for (const role of [read, write]) {
      assert.equal((await api('DELETE', `/roles/${encodeURIComponent(role)}`, ADMIN_KEY)).status, 200);
    }
    await page.locator('#key-refresh').click();
    await eventually(async () => assert.equal(await keyRow(name).count(), 0));
  });

  it('takes a screenshot of the key table', STEP, async () => {
    await createKey({ name: `partner-sync-${RUN}`, description: 'Partner asset sync', date: '2030-12-31' });
    await closeSecret();
    await page.getByRole('heading', { name: 'API Key Management' }).waitFor();
    await page.mouse.move(0, 0);
    await page.evaluate(() => document.activeElement?.blur());
    // Let any status toast fade out so the picture shows the table alone.
    await page.waitForFunction(() => getComputedStyle(document.querySelector('#status')).opacity === '0',
      null, { timeout: 10_000 });
    if (SCREENSHOT !== 'off') {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    }
  });

  it('fits a 390px wide screen without page-level horizontal overflow', STEP, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const check = () => page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const outside = [...document.querySelectorAll('body *')].filter((node) => {
        if (node.closest('.table-wrap, [hidden], dialog:not([open]), .sr-only')) return false;
        const box = node.getBoundingClientRect();
        return box.width > 0 && (box.right > width + 1 || box.left < -1);
      }).map((node) => node.id || node.className || node.tagName);
      return { width, scrollWidth: document.documentElement.scrollWidth, outside };
    });
    let layout = await check();
    assert.equal(layout.scrollWidth, layout.width, `page scrolls sideways: ${JSON.stringify(layout)}`);
    assert.deepEqual(layout.outside, [], 'elements outside the viewport');
    const wrap = await page.locator('#keys-table-wrap').evaluate((n) => ({ client: n.clientWidth, scroll: n.scrollWidth }));
    assert.ok(wrap.client <= 390, 'the table container fits the screen');

    await page.locator('#key-create').click();
    await page.locator('#dlg-key-create').waitFor({ state: 'visible' });
    layout = await check();
    assert.deepEqual(layout.outside, [], 'the create dialog fits the screen');
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it(`shows the first page of ${BULK_KEYS} keys at once, and pages, sorts and searches on the server`, { timeout: 600_000 }, async () => {
    const before = Number((await api('GET', '/auth/api-keys?pageSize=1', ADMIN_KEY)).body.totalCount);
    const name = (n) => `bulk-${RUN}-${String(n).padStart(5, '0')}`;
    let next = 0;
    const worker = async () => {
      while (next < BULK_KEYS) {
        const n = next++;
        const res = await api('POST', '/auth/api-keys', ADMIN_KEY,
          { apiKeyName: name(n), userId: 'admin', description: `bulk key ${n}` });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const total = before + BULK_KEYS;

    const rows = page.locator('#keys-table tbody tr[data-id]');
    const started = Date.now();
    await page.reload();
    await rows.first().waitFor();
    const firstPageMs = Date.now() - started;
    console.log(`first page of ${total} keys shown ${firstPageMs} ms after reload`);
    assert.ok(firstPageMs < 10_000, `first page took ${firstPageMs} ms`);
    assert.equal(await rows.count(), 50, 'one page of 50 rows, not every key');
    const count = async () => (await page.locator('#key-count').textContent()).trim();
    assert.equal(await count(), `${total} of ${total} keys`);
    const label = page.locator('#key-pager [data-page=label]');
    assert.equal((await label.textContent()).trim(), `Page 1 of ${Math.ceil(total / 50)}`);

    await page.locator('#key-pager [data-page=next]').click();
    await eventually(async () => assert.equal((await label.textContent()).trim(), `Page 2 of ${Math.ceil(total / 50)}`));
    await page.locator('#keys-table thead th[data-sort=apiKeyName] button').click();
    await eventually(async () => assert.match((await label.textContent()).trim(), /^Page 1 of/));
    await eventually(async () => assert.equal(await keyCell(name(0), 'Description'), 'bulk key 0'));

    await page.getByLabel('Filter API keys').fill(name(12345 % BULK_KEYS));
    await eventually(async () => assert.equal(await count(), `1 of ${total} keys`));
    assert.equal(await rows.count(), 1);
    await page.getByLabel('Filter API keys').fill('');
    await eventually(async () => assert.equal(await count(), `${total} of ${total} keys`));
  });

  it('signs out and stays signed out after a reload', STEP, async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin API key').waitFor();
    await page.reload();
    await page.getByLabel('Admin API key').waitFor();
    assert.ok(!(await page.locator('#view-keys').isVisible()));
    assert.ok(!(await pageText()).includes(ADMIN_KEY), 'no trace of the admin key');
  });

  it('logged no console errors or CSP violations', () => {
    assert.deepEqual(pageProblems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p)), []);
  });
});
