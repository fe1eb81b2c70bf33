/**
 * End to end: the real activation and vscode-languageclient against a fake
 * server process (test/fixtures/fake_server.py), with the mocked vscode.
 */
import './mock/register';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { activate, deactivate } from '../src/extension';

const FAKE_PYTHON = path.join(__dirname, '..', '..', 'test', 'fixtures', 'fake_python');
const hasPython = spawnSync('python3', ['--version']).status === 0;

function unescape(html: string): string {
  return html
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

interface ServerState {
  argv: string[];
  init: { settings: { run: { timeout: number }; interpreter: string }; trusted: boolean };
  configuration: unknown[];
  requests: { command: string; args: Record<string, unknown> }[];
}

/** The server's view, which the fake puts into the explanation's markdown. */
function serverState(): ServerState {
  const html = mock.recorded.panels.at(-1)?.webview.html ?? '';
  const m = /STATE (\{.*?\})<\/p>/s.exec(unescape(html));
  assert.ok(m, 'the panel shows the fake server state');
  return JSON.parse(m[1] ?? '{}') as ServerState;
}

async function waitFor(what: string, check: () => boolean, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusText = (): string => mock.recorded.statusItems[0]?.text ?? '';

describe('extension end to end with a fake server', { skip: hasPython ? false : 'python3 not found', timeout: 60000 }, () => {
  const context = { subscriptions: [] as { dispose(): unknown }[] };

  before(async () => {
    mock.reset();
    mock.state.config.set('tracecot.interpreter', FAKE_PYTHON);
    mock.state.config.set('tracecot.run.timeout', 3);
    mock.openDocument('file:///ws/m.py', 'def f(xs):\n    return sum(xs)\n', 'python', 1);
    activate(context as never);
    await waitFor('ready', () => statusText() === '$(check) tracecot');
  });

  after(async () => {
    await deactivate();
    for (const d of context.subscriptions) d.dispose();
  });

  it('starts <interpreter> -m tracecot.server serve and passes settings, trust and configuration', async () => {
    mock.script.quickPicks.push((items) => items[0]);
    await mock.commands.executeCommand('tracecot.explainRun');
    const s = serverState();
    assert.deepEqual(s.argv, ['-m', 'tracecot.server', 'serve']);
    assert.equal(s.init.trusted, true);
    assert.equal(s.init.settings.run.timeout, 3);
    assert.equal(s.init.settings.interpreter, FAKE_PYTHON);
    assert.deepEqual(s.configuration, [{ interpreter: FAKE_PYTHON, run: { timeout: 3 } }]);
    assert.deepEqual(
      s.requests.map((r) => [r.command, r.args]),
      [
        ['tracecot.server.explainRun', { uri: 'file:///ws/m.py', line: 1 }],
        ['tracecot.server.explainRun', { uri: 'file:///ws/m.py', line: 1, function: 'f', args: '[1, 2]' }],
      ],
    );
    const panel = mock.recorded.panels.at(-1);
    assert.equal(panel?.title, 'tracecot: f([1, 2])');
    assert.ok(!panel?.webview.html.includes('<script>alert'), 'step text escaped');
    assert.match(panel?.webview.html ?? '', /<details open><summary>/);
  });

  it('routes server command ids (code lenses) through the client flow', async () => {
    await mock.commands.executeCommand('tracecot.server.explainRun', { uri: 'file:///ws/m.py', function: 'f', args: '[7]' });
    assert.equal(mock.recorded.panels.at(-1)?.title, 'tracecot: f([7])');
  });

  it('shows { error } answers', async () => {
    await mock.commands.executeCommand('tracecot.predictOutput', { uri: 'file:///ws/m.py', function: 'f', args: '[1]' });
    assert.equal(mock.recorded.messages.at(-1)?.text, 'tracecot: the model is disabled');
  });

  it('runs findInput and inserts the assert', async () => {
    mock.script.inputBoxes.push('2');
    mock.script.quickPicks.push((items) => items[0]);
    mock.script.messageAnswers.push('Insert assert');
    await mock.commands.executeCommand('tracecot.findInput');
    const doc = mock.state.documents.get('file:///ws/m.py');
    assert.equal(doc?.getText(), 'def f(xs):\n    return sum(xs)\n\nassert f([1, 1]) == 2\n');
  });

  it('restarts the server with the new settings when a tracecot setting changes', async () => {
    mock.state.config.set('tracecot.run.timeout', 5);
    mock.fireConfigurationChange('tracecot.run.timeout');
    await waitFor('restart', () => statusText() !== '$(check) tracecot');
    await waitFor('ready again', () => statusText() === '$(check) tracecot');
    await mock.commands.executeCommand('tracecot.explainRun', { uri: 'file:///ws/m.py', function: 'f', args: '[2]' });
    const s = serverState();
    assert.equal(s.init.settings.run.timeout, 5);
    assert.equal(s.requests.length, 1, 'a fresh server process');
  });
});
