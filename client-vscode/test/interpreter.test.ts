import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import {
  chooseInterpreter,
  describeInterpreter,
  expandPath,
  sameInterpreter,
  serverCommandLine,
} from '../src/interpreter';
import { pythonExtensionCommand } from '../src/pythonExtension';

describe('chooseInterpreter', () => {
  const base = { trusted: true, setting: '', platform: 'linux' };

  it('falls back to python3 when nothing is configured', () => {
    assert.deepEqual(chooseInterpreter(base), { command: 'python3', args: [], source: 'default' });
  });

  it('uses python on Windows as the fallback', () => {
    assert.equal(chooseInterpreter({ ...base, platform: 'win32' }).command, 'python');
  });

  it('uses the Python extension interpreter when there is no setting', () => {
    const choice = chooseInterpreter({ ...base, pythonExtension: ['/ws/.venv/bin/python'] });
    assert.deepEqual(choice, { command: '/ws/.venv/bin/python', args: [], source: 'pythonExtension' });
  });

  it('keeps extra parts of the Python extension command as leading arguments', () => {
    const choice = chooseInterpreter({ ...base, pythonExtension: ['conda', 'run', '-n', 'env', 'python'] });
    assert.equal(choice.command, 'conda');
    assert.deepEqual(serverCommandLine(choice).args, ['run', '-n', 'env', 'python', '-m', 'tracecot.server', 'serve']);
  });

  it('prefers an explicit tracecot.interpreter setting over the Python extension', () => {
    const choice = chooseInterpreter({ ...base, setting: '/opt/tc/bin/python', pythonExtension: ['/ws/.venv/bin/python'] });
    assert.deepEqual(choice, { command: '/opt/tc/bin/python', args: [], source: 'setting' });
  });

  it('ignores an empty Python extension answer', () => {
    assert.equal(chooseInterpreter({ ...base, pythonExtension: [] }).source, 'default');
    assert.equal(chooseInterpreter({ ...base, pythonExtension: [''] }).source, 'default');
  });

  it('never uses the setting in an untrusted workspace', () => {
    const choice = chooseInterpreter({
      trusted: false,
      setting: '/evil/python',
      pythonExtension: ['/ws/.venv/bin/python'],
      platform: 'linux',
    });
    assert.deepEqual(choice, { command: 'python3', args: [], source: 'default' });
  });

  it('expands ${workspaceFolder} and ~ in the setting', () => {
    const choice = chooseInterpreter({ ...base, setting: '${workspaceFolder}/.venv/bin/python', workspaceFolder: '/ws' });
    assert.equal(choice.command, '/ws/.venv/bin/python');
    assert.equal(expandPath('~/venv/bin/python', undefined, '/home/u'), '/home/u/venv/bin/python');
    assert.equal(expandPath('  ${userHome}/py ', undefined, '/home/u'), '/home/u/py');
    assert.equal(expandPath('${workspaceFolder}/x', undefined, undefined), '${workspaceFolder}/x');
  });

  it('runs the server module with serve over stdio', () => {
    assert.deepEqual(serverCommandLine({ command: 'python3', args: [], source: 'default' }), {
      command: 'python3',
      args: ['-m', 'tracecot.server', 'serve'],
    });
  });

  it('compares and describes choices', () => {
    const a = { command: 'py', args: ['-X'], source: 'setting' as const };
    assert.ok(sameInterpreter(a, { ...a, source: 'pythonExtension' }));
    assert.ok(!sameInterpreter(a, { ...a, args: [] }));
    assert.ok(!sameInterpreter(a, undefined));
    assert.match(describeInterpreter(a), /py -X \(from tracecot.interpreter\)/);
  });
});

describe('pythonExtensionCommand', () => {
  beforeEach(() => mock.reset());

  it('is undefined without the Python extension', async () => {
    assert.equal(await pythonExtensionCommand(undefined), undefined);
  });

  it('uses environments.getActiveEnvironmentPath and resolves the executable', async () => {
    let activated = false;
    mock.state.extensions.set('ms-python.python', {
      id: 'ms-python.python',
      isActive: false,
      exports: undefined,
      activate: () => {
        activated = true;
        return Promise.resolve({
          environments: {
            getActiveEnvironmentPath: () => ({ id: 'x', path: '/ws/.venv' }),
            resolveEnvironment: () => Promise.resolve({ executable: { uri: mock.Uri.file('/ws/.venv/bin/python') } }),
          },
        });
      },
    });
    assert.deepEqual(await pythonExtensionCommand(undefined), ['/ws/.venv/bin/python']);
    assert.ok(activated);
  });

  it('falls back to settings.getExecutionDetails of older APIs', async () => {
    mock.state.extensions.set('ms-python.python', {
      id: 'ms-python.python',
      isActive: true,
      exports: { settings: { getExecutionDetails: () => ({ execCommand: ['/usr/bin/python3.11'] }) } },
      activate: () => Promise.reject(new Error('already active')),
    });
    assert.deepEqual(await pythonExtensionCommand(undefined), ['/usr/bin/python3.11']);
  });

  it('treats a throwing API as absent', async () => {
    mock.state.extensions.set('ms-python.python', {
      id: 'ms-python.python',
      isActive: false,
      exports: undefined,
      activate: () => Promise.reject(new Error('boom')),
    });
    assert.equal(await pythonExtensionCommand(undefined), undefined);
  });
});
