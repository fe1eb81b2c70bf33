// Drives a running code-server workbench with the tracecot .vsix installed, as a person would:
// open the workspace and stats.py, hover a function, read the code lenses, run "Explain this
// run" and "What input gives this output?" from the command palette. Asserts what is on screen
// and saves screenshots. Started by run.sh, which sets:
//   E2E_URL        the workbench, e.g. http://127.0.0.1:PORT
//   E2E_WORKSPACE  the folder to open (a copy of e2e/workspace)
//   E2E_SHOTS      where screenshots go
//   CHROMIUM       the browser (Debian's)
//   E2E_BAD_PYTHON an interpreter without tracecot
// Exit 0 when every check passed. Waits are generous (a shared 2-core machine); nothing is
// asserted about how long anything takes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const URL_ = process.env.E2E_URL;
const WORKSPACE = process.env.E2E_WORKSPACE;
const SHOTS = process.env.E2E_SHOTS;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BAD_PYTHON = process.env.E2E_BAD_PYTHON; // an interpreter without tracecot
const FILE = 'stats.py';
const LONG = 120000; // the first run starts the server, its sandbox and a verification run

const t0 = Date.now();
const log = (m) => process.stdout.write(`[drive ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);

class CheckFailed extends Error {}
function expect(cond, message) {
  if (!cond) throw new CheckFailed(message);
}
function includesAll(text, parts) {
  return parts.filter((p) => !text.includes(p));
}

async function shot(page, name) {
  await page.waitForTimeout(300); // fade-in animations
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  log(`screenshot ${name}.png`);
}

/** Polls `fn` until it returns a truthy value; the last value otherwise. */
async function poll(fn, timeout, every = 500) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
    } catch (err) {
      last = undefined;
      if (!(err instanceof Error) || !/Timeout|detached|not attached|Target closed/.test(err.message)) throw err;
    }
    if (last || Date.now() > end) return last;
    await new Promise((r) => setTimeout(r, every));
  }
}

// ------------------------------------------------------------------------------------- editor
const editor = (page) => page.locator('.editor-group-container.active .monaco-editor').first();
const viewLine = (page, text) => editor(page).locator('.view-lines .view-line', { hasText: text }).first();

async function openFile(page) {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${FILE}"]`).first();
  await row.waitFor({ timeout: LONG });
  await row.click();
  await viewLine(page, 'def histogram').waitFor({ timeout: 60000 });
  log(`${FILE} is open`);
}

/** Puts the cursor at the end of the line containing `text`. */
async function cursorOn(page, text) {
  await page.keyboard.press('Escape');
  // A view-line is far wider than the screen: click its text, at its start, then go to the end.
  const line = viewLine(page, text).locator(':scope > span').first();
  await line.scrollIntoViewIfNeeded();
  const box = await line.boundingBox();
  expect(box, `no line "${text}" on screen`);
  await page.mouse.click(box.x + 1, box.y + box.height / 2);
  await page.keyboard.press('End');
  await page.waitForTimeout(300); // the status bar follows the cursor a moment later
  const position = await page.locator('#status\\.editor\\.selection').innerText().catch(() => '?');
  log(`cursor on "${text}" (${position})`);
}

async function closeWidgets(page) {
  for (let i = 0; i < 3; i++) await page.keyboard.press('Escape');
  await page.mouse.move(2, 2);
}

// ------------------------------------------------------------------------------------- palette
const quickInput = (page) => page.locator('.quick-input-widget');

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const box = quickInput(page).locator('input').first();
  await box.waitFor({ state: 'visible', timeout: 15000 });
  await box.fill(`>${title}`);
  const row = quickInput(page).locator('.monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  log(`ran "${title}" from the command palette`);
}

async function quickInputTitle(page) {
  return (await quickInput(page).locator('.quick-input-title').innerText()).trim();
}

/** Text of every visible notification. */
async function notifications(page) {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

// ------------------------------------------------------------------------------------- checks
async function checkServerReady(page) {
  // The extension started `<tracecot.interpreter> -m tracecot.server serve` and it answered.
  const item = page.locator('.statusbar-item', { hasText: /^\s*tracecot\s*$/ }).filter({ has: page.locator('.codicon-check') });
  const ready = await poll(async () => (await item.count()) > 0, LONG);
  if (!ready) {
    const shown = await page.locator('.statusbar-item', { hasText: 'tracecot' }).allInnerTexts();
    throw new CheckFailed(`the status bar does not show a ready tracecot server: ${JSON.stringify(shown)}`);
  }
  log('status bar: tracecot ready');
}

async function checkHover(page) {
  const token = viewLine(page, 'def histogram').locator('span > span', { hasText: /^histogram$/ }).first();
  await token.waitFor({ timeout: 30000 });
  const hover = page.locator('.monaco-hover:visible');
  // The server may still be starting: hover again until tracecot answers with the verified run.
  const want = ['tracecot', 'histogram([1, 1, 3, 1, 2])', '[(1, 3), (3, 1), (2, 1)]', '✓ verified', '✓ as expected'];
  let text = '';
  const end = Date.now() + LONG;
  while (Date.now() < end) {
    const box = await token.boundingBox();
    await page.mouse.move(2, 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
    // Stay on the word while the run is verified (the hover shows "Loading..." until then).
    text = (await poll(async () => {
      const t = (await hover.allInnerTexts()).join('\n');
      return t.includes('✓ verified') ? t : undefined;
    }, 15000)) ?? (await hover.allInnerTexts()).join('\n');
    if (text.includes('✓ verified')) break;
    log(`hover not verified yet: ${JSON.stringify(text.slice(0, 120))}`);
  }
  log(`hover: ${JSON.stringify(text.slice(0, 300))}`);
  const missing = includesAll(text, want);
  expect(missing.length === 0, `the hover lacks ${JSON.stringify(missing)}; it shows ${JSON.stringify(text)}`);
  // Each narrated step carries its own mark; the steps of this run are all verified.
  expect((text.match(/✓/g) || []).length >= 4, `the hover shows fewer than 2 verified steps: ${JSON.stringify(text)}`);
  await shot(page, '1-hover');
  await closeWidgets(page);
}

async function checkCodeLenses(page) {
  const lenses = editor(page).locator('.codelens-decoration');
  const want = ['▶ histogram([1, 1, 3, 1, 2]) → [(1, 3), (3, 1), (2, 1)] ✓', '▶ square(3) → 9 ✓'];
  const text = await poll(async () => {
    const t = (await lenses.allInnerTexts()).join('\n');
    return includesAll(t, want).length === 0 ? t : undefined;
  }, LONG);
  const shown = (await lenses.allInnerTexts()).join(' | ');
  log(`code lenses: ${JSON.stringify(shown)}`);
  expect(text, `code lenses lack ${JSON.stringify(includesAll(shown, want))}; shown: ${JSON.stringify(shown)}`);
  expect(shown.includes('Explain run') && shown.includes('Find input…'), `no Explain run / Find input… lenses: ${shown}`);
  await shot(page, '2-code-lens');
}

async function checkExplainRun(page) {
  await cursorOn(page, 'counts = {}');
  await runCommand(page, 'tracecot: Explain this run');
  // From the palette the server may ask which run (a quick pick of the doctest's call and
  // others), or explain the function's first known run right away.
  const pick = quickInput(page).locator('.monaco-list-row', { hasText: 'histogram([1, 1, 3, 1, 2])' }).first();
  const tab = page.locator('.tabs-container .tab', { hasText: 'tracecot:' }).first();
  const first = await poll(async () => ((await tab.isVisible()) ? 'panel' : (await pick.isVisible()) ? 'pick' : undefined), LONG);
  expect(first, 'neither a quick pick of runs nor the result panel appeared');
  if (first === 'pick') {
    const title = await quickInputTitle(page);
    expect(title.includes('run histogram with which arguments?'), `unexpected quick pick title: ${title}`);
    log(`quick pick: ${JSON.stringify(title)}`);
    await pick.click();
    await tab.waitFor({ timeout: LONG });
  }
  log(`result panel tab: ${JSON.stringify(await tab.innerText())}`);
  const doc = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const badge = doc.locator('.badge').first();
  await badge.waitFor({ timeout: 60000 });
  const badgeText = await badge.innerText();
  const body = await doc.locator('body').innerText();
  log(`panel: ${JSON.stringify(body.slice(0, 300))}`);
  expect(badgeText.includes('✓ Verified by running the code'), `panel badge: ${JSON.stringify(badgeText)}`);
  const missing = includesAll(body, ['histogram([1, 1, 3, 1, 2])', 'counts', '[(1, 3), (3, 1), (2, 1)]']);
  expect(missing.length === 0, `the panel lacks ${JSON.stringify(missing)}: ${JSON.stringify(body)}`);
  // Markdown is rendered, not shown: no literal ** or backticks (none of this run's values
  // holds one), and the steps show their code spans as code.
  for (const marker of ['**', '`']) {
    const at = body.indexOf(marker);
    expect(at < 0, `literal ${marker} in the panel: ${JSON.stringify(body.slice(Math.max(0, at - 80), at + 80))}`);
  }
  const stepCode = await doc.locator('li.step .text code').count();
  expect(stepCode > 0, 'the steps show no code spans');
  await shot(page, '3-explain-run');
  // Back to the source editor for the next check.
  await page.locator('.tabs-container .tab', { hasText: FILE }).first().click();
}

async function checkFindInput(page) {
  await cursorOn(page, 'result = n * n');
  await runCommand(page, 'tracecot: What input gives this output?');
  const box = quickInput(page).locator('input').first();
  await poll(async () => (await quickInputTitle(page)).includes('what input gives this output?'), 30000);
  const title = await quickInputTitle(page);
  expect(title.includes('what input gives this output?'), `no input box for the target, title: ${JSON.stringify(title)}`);
  await box.fill('49');
  await shot(page, '4-find-input-target');
  await page.keyboard.press('Enter');
  log('asked for an input of square that gives 49');
  const found = quickInput(page).locator('.monaco-list-row', { hasText: 'square(7)' }).first();
  await found.waitFor({ timeout: LONG });
  const row = await found.innerText();
  log(`found: ${JSON.stringify(row)} in ${JSON.stringify(await quickInputTitle(page))}`);
  const missing = includesAll(row, ['square(7)', '→ 49', '✓ verified by running the code']);
  expect(missing.length === 0, `the found input lacks ${JSON.stringify(missing)}: ${JSON.stringify(row)}`);
  await shot(page, '5-find-input-found');
  await found.click();
  // Offered as an assert; inserting it puts it into the file.
  const toast = page.locator('.notification-toast', { hasText: 'assert square(7) == 49' }).first();
  await toast.waitFor({ timeout: 30000 });
  await toast.locator('.monaco-button', { hasText: 'Insert assert' }).first().click();
  const inserted = viewLine(page, 'assert square(7) == 49');
  await inserted.waitFor({ timeout: 30000 });
  log('the assert is in the editor');
  await shot(page, '6-find-input-assert');
}

async function checkWrongInterpreter(page) {
  // Point tracecot.interpreter at a Python without tracecot, as a user might by mistake: the
  // server restarts, fails, and the user is told which interpreter and what to do.
  // (Workspace settings: the workbench watches the workspace folder for changes on disk.)
  const settingsFile = path.join(WORKSPACE, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify({ 'tracecot.interpreter': BAD_PYTHON }, null, 2));
  log(`tracecot.interpreter set to ${BAD_PYTHON} in ${settingsFile}`);
  try {
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'the server did not start' }).first();
    await toast.waitFor({ timeout: LONG });
    const text = await toast.innerText();
    log(`notification: ${JSON.stringify(text)}`);
    const missing = includesAll(text, [`"${BAD_PYTHON}"`, 'tracecot.interpreter', 'Show log', 'Open settings']);
    expect(missing.length === 0, `the notification lacks ${JSON.stringify(missing)}: ${JSON.stringify(text)}`);
    // Said once: no other popup from the extension about the same failure.
    const toasts = await page.locator('.notifications-toasts .notification-toast').allInnerTexts();
    const others = toasts.filter((t) => t.includes('tracecot') && !t.includes('the server did not start'));
    expect(others.length === 0, `more notifications about it: ${JSON.stringify(others)}`);
    const status = await page.locator('.statusbar-item', { hasText: 'tracecot' }).allInnerTexts();
    expect(status.some((t) => t.includes('stopped')), `the status bar does not say stopped: ${JSON.stringify(status)}`);
    await shot(page, '7-wrong-interpreter');
  } finally {
    fs.writeFileSync(settingsFile, '{}\n');
  }
  log('tracecot.interpreter restored');
  await closeWidgets(page);
  await page.locator('.notifications-toasts .notification-toast .codicon-notifications-clear').first().click({ timeout: 3000 }).catch(() => {});
  await checkServerReady(page);
}

// ------------------------------------------------------------------------------------- main
async function main() {
  const required = { E2E_URL: URL_, E2E_WORKSPACE: WORKSPACE, E2E_SHOTS: SHOTS, E2E_BAD_PYTHON: BAD_PYTHON };
  for (const [k, v] of Object.entries(required)) {
    if (!v) throw new Error(`${k} is not set (run.sh sets it)`);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || (await browser.newPage());
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));

  const checks = [
    // Without a server nothing else can pass: stop there (fatal).
    ['the server starts with the configured interpreter', checkServerReady, { fatal: true }],
    ['hover shows the verified narrative', checkHover],
    ['code lenses show verified runs', checkCodeLenses],
    ['Explain this run opens a verified narrative', checkExplainRun],
    ['What input gives this output? finds a verified input', checkFindInput],
    ['a Python without tracecot is reported, then the server comes back', checkWrongInterpreter],
  ];
  let passed = 0;
  let failed = 0;
  let stop = false;
  try {
    await page.goto(`${URL_}/?folder=${encodeURIComponent(WORKSPACE)}`, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: LONG });
    log('workbench loaded');
    await openFile(page);
    for (const [name, check, options] of checks) {
      if (failed > 0 && stop) {
        failed++;
        log(`not ok - ${name}: not run`);
        continue;
      }
      log(`--- ${name}`);
      try {
        await check(page);
        passed++;
        log(`ok - ${name}`);
      } catch (err) {
        failed++;
        stop = options?.fatal === true;
        log(`not ok - ${name}: ${err instanceof CheckFailed ? err.message : err.stack}`);
        const slug = name.split(' ')[0].toLowerCase().replace(/[^a-z]/g, '');
        await page.screenshot({ path: path.join(SHOTS, `failed-${slug}.png`) }).catch(() => {});
        log(`notifications: ${JSON.stringify(await notifications(page).catch(() => []))}`);
        log(`console errors: ${JSON.stringify(consoleLines.filter((l) => l.startsWith('error: tracecot')))}`);
        await closeWidgets(page).catch(() => {});
      }
    }
  } catch (err) {
    failed = checks.length - passed;
    log(`not ok - the workbench did not come up: ${err.stack}`);
    await page.screenshot({ path: path.join(SHOTS, 'failed-workbench.png') }).catch(() => {});
  } finally {
    fs.writeFileSync(path.join(SHOTS, 'browser-console.log'), consoleLines.join('\n') + '\n');
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  // The plain closing line CI reads.
  process.stdout.write(`e2e: ${passed} passed, ${failed} failed\n`);
  return failed === 0 && passed === checks.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
