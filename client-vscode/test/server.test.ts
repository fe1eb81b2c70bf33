import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { chooseInterpreter } from '../src/interpreter';
import { ServerCommand, TrustChangedNotification } from '../src/protocol';
import {
  CrashPolicy,
  ServerManager,
  ServerNotRunningError,
  type ClientEvents,
  type ClientLike,
  type LaunchSpec,
} from '../src/server';
import { readSettings } from '../src/settings';
import type { ServerState } from '../src/status';
import { registerTriggers } from '../src/triggers';

class FakeClient implements ClientLike {
  running = false;
  stopped = false;
  refreshed = 0;
  notifications: { method: string; params: unknown }[] = [];
  executed: { command: string; args: unknown }[] = [];
  constructor(
    readonly spec: LaunchSpec,
    readonly events: ClientEvents,
    private readonly failStart: boolean,
  ) {}
  start(): Promise<void> {
    if (this.failStart) return Promise.reject(new Error('spawn python3 ENOENT'));
    this.running = true;
    this.events.onState('running');
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.events.onState('stopped');
    return Promise.resolve();
  }
  isRunning(): boolean {
    return this.running;
  }
  execute(command: string, args: unknown): Promise<unknown> {
    this.executed.push({ command, args });
    return Promise.resolve({ ok: true });
  }
  notify(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
    return Promise.resolve();
  }
  refreshInlayHints(): void {
    this.refreshed++;
  }
}

function setup(options: { trusted?: boolean; failStart?: boolean } = {}) {
  const env = {
    trusted: options.trusted ?? true,
    values: {} as Record<string, unknown>,
    pythonExtension: undefined as string[] | undefined,
    failStart: options.failStart ?? false,
    clients: [] as FakeClient[],
    states: [] as [ServerState, string | undefined][],
    logs: [] as string[],
    failures: [] as unknown[],
  };
  const manager = new ServerManager({
    createClient: (spec, events) => {
      const c = new FakeClient(spec, events, env.failStart);
      env.clients.push(c);
      return c;
    },
    resolveInterpreter: (trusted, settings) =>
      Promise.resolve(
        chooseInterpreter({ trusted, setting: settings.interpreter, pythonExtension: env.pythonExtension, platform: 'linux' }),
      ),
    readSettings: () => readSettings((k) => env.values[k]),
    isTrusted: () => env.trusted,
    cwd: () => '/ws',
    setState: (s, m) => env.states.push([s, m]),
    log: (l) => env.logs.push(l),
    onStartFailed: (e) => env.failures.push(e),
  });
  return { env, manager };
}

describe('ServerManager', () => {
  it('starts <python> -m tracecot.server serve with settings and trust', async () => {
    const { env, manager } = setup();
    env.values['interpreter'] = '/venv/bin/python';
    env.values['run.timeout'] = 4;
    await manager.start();
    const spec = env.clients[0]?.spec;
    assert.equal(spec?.command, '/venv/bin/python');
    assert.deepEqual(spec?.args, ['-m', 'tracecot.server', 'serve']);
    assert.equal(spec?.cwd, '/ws');
    assert.equal(spec?.initializationOptions.trusted, true);
    assert.equal(spec?.initializationOptions.settings.run.timeout, 4);
    assert.deepEqual(env.states.map((s) => s[0]), ['starting', 'ready']);
  });

  it('starts with python3 and trusted: false in an untrusted workspace', async () => {
    const { env, manager } = setup({ trusted: false });
    env.values['interpreter'] = '/evil/python';
    await manager.start();
    assert.equal(env.clients[0]?.spec.command, 'python3');
    assert.equal(env.clients[0]?.spec.initializationOptions.trusted, false);
    assert.equal(env.clients[0]?.spec.initializationOptions.settings.interpreter, '');
    assert.match(env.logs.join('\n'), /restricted mode/);
  });

  it('restarts when a tracecot setting changes', async () => {
    const { env, manager } = setup();
    await manager.start();
    env.values['model.path'] = '/models/m.gguf';
    await manager.onConfigurationChanged();
    assert.equal(env.clients.length, 2);
    assert.ok(env.clients[0]?.stopped);
    assert.equal(env.clients[1]?.spec.initializationOptions.settings.model.path, '/models/m.gguf');
    assert.match(env.logs.join('\n'), /settings changed \(model\.path\)/);
  });

  it('does not restart when nothing changed, and only refreshes hints for inlayHints.enabled', async () => {
    const { env, manager } = setup();
    await manager.start();
    await manager.onConfigurationChanged();
    assert.equal(env.clients.length, 1);
    env.values['inlayHints.enabled'] = false;
    await manager.onConfigurationChanged();
    assert.equal(env.clients.length, 1);
    assert.equal(env.clients[0]?.refreshed, 1);
  });

  it('restarts when the interpreter changes, not when it stays the same', async () => {
    const { env, manager } = setup();
    env.pythonExtension = ['/a/bin/python'];
    await manager.start();
    await manager.onInterpreterChanged();
    assert.equal(env.clients.length, 1);
    env.pythonExtension = ['/b/bin/python'];
    await manager.onInterpreterChanged();
    assert.equal(env.clients.length, 2);
    assert.equal(env.clients[1]?.spec.command, '/b/bin/python');
  });

  it('merges restarts asked for while one is waiting', async () => {
    const { env, manager } = setup();
    await manager.start();
    await Promise.all([manager.restart('a'), manager.restart('b'), manager.restart('c')]);
    assert.equal(env.clients.length, 2);
  });

  it('sends tracecot/trustChanged when trust is granted, restarting if the interpreter changes', async () => {
    const { env, manager } = setup({ trusted: false });
    await manager.start();
    env.trusted = true;
    await manager.onTrustGranted();
    assert.deepEqual(env.clients[0]?.notifications, [{ method: TrustChangedNotification, params: { trusted: true } }]);
    assert.equal(env.clients.length, 1, 'same interpreter: no restart');

    const second = setup({ trusted: false });
    second.env.values['interpreter'] = '/venv/bin/python';
    await second.manager.start();
    second.env.trusted = true;
    await second.manager.onTrustGranted();
    assert.equal(second.env.clients.length, 2);
    assert.equal(second.env.clients[1]?.spec.command, '/venv/bin/python');
    assert.equal(second.env.clients[1]?.spec.initializationOptions.trusted, true);
  });

  it('executes server commands with the tracecot.server. prefix', async () => {
    const { env, manager } = setup();
    await manager.start();
    const answer = await manager.execute('findInput', { uri: 'file:///a.py', target: '3' });
    assert.deepEqual(answer, { ok: true });
    assert.deepEqual(env.clients[0]?.executed, [
      { command: ServerCommand.findInput, args: { uri: 'file:///a.py', target: '3' } },
    ]);
  });

  it('reports a server that does not start, and refuses commands', async () => {
    const { env, manager } = setup({ failStart: true });
    await manager.start();
    assert.equal(env.failures.length, 1);
    assert.deepEqual(env.states.at(-1), ['stopped', 'spawn python3 ENOENT']);
    await assert.rejects(manager.execute('explainRun', { uri: 'file:///a.py' }), ServerNotRunningError);
  });

  it('survives a client that cannot even be created, and starts on the next restart', async () => {
    const { env, manager } = setup();
    const deps = (manager as unknown as { deps: { createClient: (...a: unknown[]) => unknown } }).deps;
    const original = deps.createClient;
    deps.createClient = () => {
      throw new Error('bad options');
    };
    await manager.start();
    assert.deepEqual(env.states.at(-1), ['stopped', 'bad options']);
    assert.equal(env.failures.length, 1);
    deps.createClient = original;
    await manager.restart('retry');
    assert.equal(env.clients.length, 1);
    assert.deepEqual(env.states.at(-1), ['ready', undefined]);
  });

  it('reflects tracecot/status notifications, ignoring replaced clients', async () => {
    const { env, manager } = setup();
    await manager.start();
    const first = env.clients[0];
    env.clients[0]?.events.onStatus({ state: 'modelLoading', message: 'loading' });
    assert.deepEqual(env.states.at(-1), ['modelLoading', 'loading']);
    await manager.restart('test');
    const count = env.states.length;
    first?.events.onStatus({ state: 'error' });
    assert.equal(env.states.length, count);
  });
});

describe('CrashPolicy', () => {
  it('restarts up to three times within the window', () => {
    const p = new CrashPolicy(3, 1000);
    assert.deepEqual([0, 1, 2, 3].map((t) => p.shouldRestart(t)), [true, true, true, false]);
    assert.equal(p.shouldRestart(5000), true);
  });
});

describe('registerTriggers', () => {
  beforeEach(() => mock.reset());

  it('forwards tracecot configuration changes and trust grants to the manager', () => {
    const calls: string[] = [];
    let trusted = 0;
    registerTriggers(
      {
        onConfigurationChanged: () => {
          calls.push('config');
          return Promise.resolve();
        },
        onTrustGranted: () => {
          calls.push('trust');
          return Promise.resolve();
        },
        onInterpreterChanged: () => {
          calls.push('interpreter');
          return Promise.resolve();
        },
      },
      () => trusted++,
    );
    mock.fireConfigurationChange('editor.fontSize');
    assert.deepEqual(calls, []);
    mock.fireConfigurationChange('tracecot.run.timeout');
    assert.deepEqual(calls, ['config']);
    mock.fireTrustGranted();
    assert.deepEqual(calls, ['config', 'trust']);
    assert.equal(trusted, 1);
  });

  it('restarts the real manager on a configuration change event', async () => {
    const { env, manager } = setup();
    await manager.start();
    registerTriggers(manager, () => undefined);
    env.values['run.stepCap'] = 10;
    mock.fireConfigurationChange('tracecot.run.stepCap');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(env.clients.length, 2);
    assert.equal(env.clients[1]?.spec.initializationOptions.settings.run.stepCap, 10);
  });

  it('listens to interpreter changes of the Python extension when present', async () => {
    const emitter = new mock.EventEmitter<unknown>();
    mock.state.extensions.set('ms-python.python', {
      id: 'ms-python.python',
      isActive: true,
      exports: { environments: { getActiveEnvironmentPath: () => ({ id: '', path: '' }), onDidChangeActiveEnvironmentPath: emitter.event } },
      activate: () => Promise.resolve(undefined),
    });
    const calls: string[] = [];
    const noop = () => Promise.resolve();
    registerTriggers(
      {
        onConfigurationChanged: noop,
        onTrustGranted: noop,
        onInterpreterChanged: () => {
          calls.push('interpreter');
          return Promise.resolve();
        },
      },
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 0));
    emitter.fire({});
    assert.deepEqual(calls, ['interpreter']);
  });
});
