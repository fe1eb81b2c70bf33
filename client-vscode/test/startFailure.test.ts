/**
 * A configured interpreter that cannot run the server (a Python without tracecot: the
 * fixture reads `initialize`, then exits 1) must end in the extension's start-failure
 * message, not in a silent "stopped". The real
 * activation and vscode-languageclient, with the mocked vscode, in a child process: the
 * library leaves rejections of its own unhandled when the server goes away during start-up,
 * which node:test would blame on this test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const NO_TRACECOT = path.join(__dirname, '..', '..', 'test', 'fixtures', 'python_without_tracecot');
const hasPython = spawnSync('python3', ['--version']).status === 0;

const CHILD = `
process.on('unhandledRejection', () => undefined);
require(${JSON.stringify(path.join(__dirname, 'mock', 'register.js'))});
const mock = require(${JSON.stringify(path.join(__dirname, 'mock', 'vscode.js'))});
const ext = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'extension.js'))});
mock.reset();
mock.state.config.set('tracecot.interpreter', ${JSON.stringify(NO_TRACECOT)});
mock.openDocument('file:///ws/m.py', 'def f(xs):\\n    return sum(xs)\\n', 'python', 1);
ext.activate({ subscriptions: [] });
const end = Date.now() + 15000;
const timer = setInterval(() => {
  const failed = mock.recorded.messages.some((m) => m.text.includes('did not start'));
  if (failed || Date.now() > end) {
    clearInterval(timer);
    process.stdout.write(JSON.stringify({
      messages: mock.recorded.messages,
      status: mock.recorded.statusItems.map((s) => s.text),
    }));
    process.exit(0);
  }
}, 20);
`;

describe('a server that exits during start-up', { skip: hasPython ? false : 'python3 not found' }, () => {
  it('is reported with the interpreter and what to do', () => {
    const child = spawnSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', timeout: 30000 });
    assert.equal(child.status, 0, child.stderr);
    const seen = JSON.parse(child.stdout) as {
      messages: { kind: string; text: string; items: string[] }[];
      status: string[];
    };
    const failure = seen.messages.find((m) => m.text.includes('the server did not start'));
    assert.ok(failure, `no start failure message among ${JSON.stringify(seen.messages)}`);
    assert.equal(failure.kind, 'error');
    assert.ok(failure.text.includes(`"${NO_TRACECOT}"`), failure.text);
    assert.match(failure.text, /tracecot\.interpreter/);
    assert.deepEqual(failure.items, ['Show log', 'Open settings']);
    // Reported once, with the hint: no bare popup of the library's own error as well.
    assert.deepEqual(
      seen.messages.filter((m) => m.kind === 'error').map((m) => m.text),
      [failure.text],
    );
    assert.match(seen.status[0] ?? '', /stopped/);
  });
});
