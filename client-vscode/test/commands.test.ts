import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { Commands, showError, toggleInlayHints } from '../src/commands';
import { ClientCommand, ServerCommand } from '../src/protocol';
import { ServerNotRunningError } from '../src/server';
import { fakeDeps } from './helpers';

const SRC = 'def f(xs):\n    return sorted(xs)\n';

const EXPLAIN = {
  title: 'f([3, 1])',
  markdown: 'sorts',
  verified: true,
  steps: [{ index: 0, line: 1, text: 'return [1, 3]', verified: true, depth: 0 }],
};

describe('explainRun', () => {
  beforeEach(() => mock.reset());

  it('sends uri and cursor line from the active editor and shows the panel', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([EXPLAIN]);
    await new Commands(deps).explainRun();
    assert.deepEqual(deps.requests.map((r) => [r.kind, r.args]), [['explainRun', { uri: 'file:///ws/m.py', line: 1 }]]);
    assert.equal(deps.shown.length, 1);
    assert.equal(deps.shown[0]?.kind, 'explain');
    assert.match(mock.recorded.progress[0]?.title ?? '', /^tracecot: Explaining/);
  });

  it('asks for arguments when the server needs them, offering suggestions', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([{ needsArgs: true, function: 'f', suggestions: ['[1, 2]', '[]'] }, EXPLAIN]);
    mock.script.quickPicks.push((items) => items.find((i) => i.label === 'f([])'));
    await new Commands(deps).explainRun();
    const labels = mock.recorded.quickPicks[0]?.items.map((i) => i.label);
    assert.deepEqual(labels, ['f([1, 2])', 'f([])', '$(edit) Enter arguments…']);
    assert.deepEqual(deps.requests[1]?.args, { uri: 'file:///ws/m.py', line: 1, function: 'f', args: '[]' });
    assert.equal(deps.shown[0]?.call, 'f([])');
  });

  it('lets the user type arguments, then remembers them', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const need = { needsArgs: true, function: 'f', suggestions: [] };
    const deps = fakeDeps([need, EXPLAIN, need, EXPLAIN]);
    mock.script.inputBoxes.push(' [5, 4] ');
    const commands = new Commands(deps);
    await commands.explainRun();
    assert.equal(mock.recorded.quickPicks.length, 0, 'no suggestions: straight to the input box');
    assert.equal(deps.requests[1]?.args.args, '[5, 4]');
    assert.equal(mock.recorded.inputBoxes[0]?.options.validateInput?.('[1,'), 'Unclosed "["');

    mock.script.quickPicks.push((items) => items[0]);
    await commands.explainRun();
    assert.deepEqual(mock.recorded.quickPicks[0]?.items[0], { label: 'f([5, 4])', description: 'used before', value: '[5, 4]' });
    assert.equal(deps.requests[3]?.args.args, '[5, 4]');
  });

  it('stops when the user dismisses the argument prompt', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([{ needsArgs: true, function: 'f', suggestions: ['1'] }]);
    mock.script.quickPicks.push(() => undefined);
    await new Commands(deps).explainRun();
    assert.equal(deps.requests.length, 1);
    assert.equal(deps.shown.length, 0);
  });

  it('uses a code lens arguments object as is', async () => {
    const deps = fakeDeps([EXPLAIN]);
    const args = { uri: 'file:///ws/x.py', function: 'g', args: '1', runId: 'r9' };
    await new Commands(deps).explainRun(args);
    assert.deepEqual(deps.requests[0]?.args, args);
  });

  it('shows { error } answers and LSP errors as error messages', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const commands = new Commands(fakeDeps([{ error: 'f raised ZeroDivisionError' }]));
    mock.state.commands.clear();
    commands.register();
    await mock.commands.executeCommand(ClientCommand.explainRun);
    assert.deepEqual(mock.recorded.messages.at(-1), { kind: 'error', text: 'tracecot: f raised ZeroDivisionError', items: [] });

    const failing = new Commands(fakeDeps([() => Promise.reject(Object.assign(new Error('Internal error'), { code: -32603 }))]));
    failing.register();
    await mock.commands.executeCommand(ClientCommand.explainRun);
    assert.equal(mock.recorded.messages.at(-1)?.text, 'tracecot: Internal error');
  });

  it('reports a malformed answer', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    new Commands(fakeDeps([{ nonsense: true }])).register();
    await mock.commands.executeCommand(ClientCommand.explainRun);
    assert.match(mock.recorded.messages.at(-1)?.text ?? '', /unexpected answer from the server/);
  });

  it('refuses to run in an untrusted workspace', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([EXPLAIN], false);
    mock.script.messageAnswers.push('Manage Workspace Trust');
    await new Commands(deps).explainRun();
    assert.equal(deps.requests.length, 0);
    assert.equal(mock.recorded.messages[0]?.kind, 'warning');
    assert.equal(mock.recorded.executed.at(-1)?.command, 'workbench.trust.manage');
  });

  it('asks for a Python editor', async () => {
    mock.openDocument('file:///ws/m.js', 'x', 'javascript', 0);
    const deps = fakeDeps([EXPLAIN]);
    await new Commands(deps).explainRun();
    assert.equal(deps.requests.length, 0);
    assert.match(mock.recorded.messages[0]?.text ?? '', /Python files/);
  });

  it('returns at once when the user cancels, passing the token to the request', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    let seenToken: { isCancellationRequested: boolean } | undefined;
    const deps = fakeDeps([
      (_args: unknown, token: { isCancellationRequested: boolean } | undefined) => {
        seenToken = token;
        return new Promise(() => undefined); // never answers
      },
    ]);
    mock.script.cancelProgress = true;
    await new Commands(deps).explainRun();
    assert.equal(seenToken?.isCancellationRequested, true);
    assert.equal(deps.shown.length, 0);
    assert.equal(mock.recorded.messages.length, 0);
    assert.equal(deps.busyCount, 0);
  });
});

describe('predictOutput', () => {
  beforeEach(() => mock.reset());

  it('shows ✓ and opens the reasoning on request', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const answer = { prediction: '[1, 3]', verified: true, actual: '[1, 3]', function: 'f', args: '[3, 1]', reasoning: [] };
    const deps = fakeDeps([answer]);
    mock.script.messageAnswers.push('Show reasoning');
    await new Commands(deps).predictOutput();
    assert.equal(mock.recorded.messages[0]?.text, '✓ The model predicted f([3, 1]) → [1, 3], and the actual run agrees.');
    assert.deepEqual(mock.recorded.messages[0]?.items, ['Show reasoning']);
    assert.equal(deps.shown[0]?.kind, 'prediction');
  });

  it('shows ✗ with the actual value', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([{ prediction: '[3, 1]', verified: false, actual: '[1, 3]' }]);
    await new Commands(deps).predictOutput({ uri: 'file:///ws/m.py', function: 'f', args: '[3, 1]' });
    assert.equal(mock.recorded.messages[0]?.text, '✗ The model predicted f([3, 1]) → [3, 1], but the actual run gives [1, 3].');
    assert.equal(deps.shown.length, 0);
  });
});

describe('debugRun', () => {
  beforeEach(() => mock.reset());

  const DEBUG = { program: '/tmp/tracecot/run_1.py', args: ['--x'], cwd: '/ws' };

  it('starts a debugpy session with the server program', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    mock.state.workspaceFolders = [{ uri: mock.Uri.file('/ws'), name: 'ws', index: 0 }];
    mock.state.extensions.set('ms-python.debugpy', { id: 'ms-python.debugpy', isActive: true, exports: {}, activate: () => Promise.resolve({}) });
    const deps = fakeDeps([DEBUG]);
    await new Commands(deps).debugRun();
    assert.equal(mock.recorded.debugSessions.length, 1);
    assert.deepEqual(mock.recorded.debugSessions[0]?.config, {
      type: 'debugpy',
      request: 'launch',
      name: 'tracecot: debug run',
      program: '/tmp/tracecot/run_1.py',
      args: ['--x'],
      cwd: '/ws',
      justMyCode: true,
      console: 'internalConsole',
    });
    assert.equal((mock.recorded.debugSessions[0]?.folder as { name: string }).name, 'ws');
  });

  it('falls back to the python debug type of older Python extensions', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    mock.state.extensions.set('ms-python.python', { id: 'ms-python.python', isActive: true, exports: {}, activate: () => Promise.resolve({}) });
    await new Commands(fakeDeps([DEBUG])).debugRun();
    assert.equal(mock.recorded.debugSessions[0]?.config.type, 'python');
  });

  it('explains clearly when no Python debugger is installed', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    const deps = fakeDeps([DEBUG]);
    await new Commands(deps).debugRun();
    assert.equal(deps.requests.length, 0);
    assert.equal(mock.recorded.debugSessions.length, 0);
    assert.match(mock.recorded.messages[0]?.text ?? '', /Python Debugger extension \(ms-python\.debugpy\)/);
  });

  it('reports a debugger that does not start', async () => {
    mock.openDocument('file:///ws/m.py', SRC, 'python', 1);
    mock.state.extensions.set('ms-python.debugpy', { id: 'ms-python.debugpy', isActive: true, exports: {}, activate: () => Promise.resolve({}) });
    mock.script.startDebugging = false;
    await new Commands(fakeDeps([DEBUG])).debugRun();
    assert.match(mock.recorded.messages[0]?.text ?? '', /did not start/);
  });
});

describe('other commands', () => {
  beforeEach(() => mock.reset());

  it('registers every contributed command', () => {
    new Commands(fakeDeps([])).register();
    for (const id of Object.values(ClientCommand)) assert.ok(mock.state.commands.has(id), id);
  });

  it('maps server command ids to client command ids', () => {
    assert.equal(Commands.clientCommandFor(ServerCommand.explainRun), ClientCommand.explainRun);
    assert.equal(Commands.clientCommandFor(ServerCommand.debugRun), ClientCommand.debugRun);
    assert.equal(Commands.clientCommandFor('tracecot.server.other'), undefined);
  });

  it('toggles tracecot.inlayHints.enabled where it is set', async () => {
    await toggleInlayHints();
    assert.deepEqual(mock.recorded.configUpdates[0], { key: 'tracecot.inlayHints.enabled', value: false, target: mock.ConfigurationTarget.Global });
    await toggleInlayHints();
    assert.equal(mock.recorded.configUpdates[1]?.value, true);
    mock.state.configWorkspace.set('tracecot.inlayHints.enabled', false);
    await toggleInlayHints();
    assert.deepEqual(mock.recorded.configUpdates[2], { key: 'tracecot.inlayHints.enabled', value: true, target: mock.ConfigurationTarget.Workspace });
    assert.deepEqual(mock.recorded.statusMessages, ['tracecot: inlay hints off', 'tracecot: inlay hints on', 'tracecot: inlay hints on']);
  });

  it('offers a restart when the server is not running', async () => {
    const deps = fakeDeps([]);
    mock.script.messageAnswers.push('Restart server');
    await showError(new ServerNotRunningError(), deps);
    assert.equal(deps.restarts, 1);
  });

  it('stays silent on cancelled requests', async () => {
    await showError(Object.assign(new Error('cancelled'), { code: -32800 }), fakeDeps([]));
    assert.equal(mock.recorded.messages.length, 0);
  });
});
