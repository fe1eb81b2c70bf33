/**
 * Lifecycle of the language server: start, stop, serialized restarts, and
 * what to do on settings, interpreter and trust changes. No vscode import:
 * the LSP client and the UI come in through ServerDeps.
 */
import { initializationOptions, changedKeys, restartNeeded, type InitializationOptions, type TracecotSettings } from './settings';
import { describeInterpreter, sameInterpreter, serverCommandLine, type InterpreterChoice } from './interpreter';
import { ServerCommand, TrustChangedNotification, type CommandArgs, type RunCommandKind, type StatusParams } from './protocol';
import type { ServerState } from './status';

/** A cancellation token: vscode's and the languageclient's both fit. */
export interface TokenLike {
  readonly isCancellationRequested: boolean;
}

/** What the manager needs from an LSP client. */
export interface ClientLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  /** `workspace/executeCommand` with a single arguments object. */
  execute(command: string, args: CommandArgs, token?: TokenLike): Promise<unknown>;
  notify(method: string, params: unknown): Promise<void>;
  /** Asks the editor to query inlay hints again. */
  refreshInlayHints(): void;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd?: string | undefined;
  initializationOptions: InitializationOptions;
  interpreter: InterpreterChoice;
}

/** Events from one client; the manager ignores those of replaced clients. */
export interface ClientEvents {
  onState(state: 'starting' | 'running' | 'stopped', message?: string): void;
  onStatus(params: StatusParams): void;
}

export interface ServerDeps {
  createClient(spec: LaunchSpec, events: ClientEvents): ClientLike;
  resolveInterpreter(trusted: boolean, settings: TracecotSettings): Promise<InterpreterChoice>;
  readSettings(): TracecotSettings;
  isTrusted(): boolean;
  cwd(): string | undefined;
  setState(state: ServerState, message?: string): void;
  log(line: string): void;
  onStartFailed(error: unknown, spec: LaunchSpec): void;
}

export class ServerNotRunningError extends Error {
  constructor() {
    super('the tracecot server is not running');
    this.name = 'ServerNotRunningError';
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Automatic restarts after crashes: at most `max` within `windowMs`. */
export class CrashPolicy {
  private crashes: number[] = [];
  constructor(
    private readonly max = 3,
    private readonly windowMs = 3 * 60 * 1000,
  ) {}

  /** Records a crash; true when the server should be restarted. */
  shouldRestart(now: number): boolean {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.max;
  }
}

export class ServerManager {
  private client: ClientLike | undefined;
  private generation = 0;
  private interpreter: InterpreterChoice | undefined;
  private settings: TracecotSettings;
  private queue: Promise<void> = Promise.resolve();
  private pendingRestart = false;
  private disposed = false;

  constructor(private readonly deps: ServerDeps) {
    this.settings = deps.readSettings();
  }

  /** The interpreter of the running (or last started) server. */
  get currentInterpreter(): InterpreterChoice | undefined {
    return this.interpreter;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.startNow());
  }

  /** Stops and starts again; calls made while one is waiting merge into it. */
  restart(reason: string): Promise<void> {
    if (this.pendingRestart) {
      return this.queue;
    }
    this.pendingRestart = true;
    return this.enqueue(async () => {
      this.pendingRestart = false;
      this.deps.log(`Restarting the server: ${reason}`);
      await this.stopNow();
      await this.startNow();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopNow());
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.enqueue(() => this.stopNow());
  }

  /** Call when `tracecot.*` settings may have changed. */
  async onConfigurationChanged(): Promise<void> {
    const next = this.deps.readSettings();
    const changed = changedKeys(this.settings, next);
    this.settings = next;
    if (changed.length === 0) {
      return;
    }
    if (restartNeeded(changed)) {
      await this.restart(`settings changed (${changed.join(', ')})`);
    } else {
      this.client?.refreshInlayHints();
    }
  }

  /** Call when the Python extension's selected interpreter may have changed. */
  async onInterpreterChanged(): Promise<void> {
    await this.queue;
    const next = await this.deps.resolveInterpreter(this.deps.isTrusted(), this.deps.readSettings());
    if (!sameInterpreter(next, this.interpreter)) {
      await this.restart(`interpreter changed to ${describeInterpreter(next)}`);
    }
  }

  /** Call when the user trusts the workspace. */
  async onTrustGranted(): Promise<void> {
    await this.queue;
    const client = this.client;
    if (client?.isRunning() === true) {
      try {
        await client.notify(TrustChangedNotification, { trusted: true });
      } catch (err) {
        this.deps.log(`Could not send ${TrustChangedNotification}: ${errorMessage(err)}`);
      }
    }
    const next = await this.deps.resolveInterpreter(true, this.deps.readSettings());
    if (client?.isRunning() !== true || !sameInterpreter(next, this.interpreter)) {
      await this.restart('workspace trusted');
    }
  }

  /** Runs a server command; waits for a start or restart in progress first. */
  async execute(kind: RunCommandKind, args: CommandArgs, token?: TokenLike): Promise<unknown> {
    await this.queue;
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      throw new ServerNotRunningError();
    }
    return client.execute(ServerCommand[kind], args, token);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await task();
      } catch (err) {
        this.deps.log(`Unexpected error: ${errorMessage(err)}`);
        this.deps.setState('stopped', errorMessage(err));
      }
    };
    this.queue = this.queue.then(run);
    return this.queue;
  }

  private async startNow(): Promise<void> {
    if (this.disposed) {
      return;
    }
    const trusted = this.deps.isTrusted();
    const settings = this.deps.readSettings();
    this.settings = settings;
    const interpreter = await this.deps.resolveInterpreter(trusted, settings);
    this.interpreter = interpreter;
    const line = serverCommandLine(interpreter);
    const spec: LaunchSpec = {
      command: line.command,
      args: line.args,
      cwd: this.deps.cwd(),
      initializationOptions: initializationOptions(settings, trusted),
      interpreter,
    };
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation;
    this.deps.log(
      `Starting: ${[spec.command, ...spec.args].join(' ')} — interpreter ${describeInterpreter(interpreter)}` +
        (trusted ? '' : ' — untrusted workspace, restricted mode'),
    );
    this.deps.setState('starting');
    let client: ClientLike;
    try {
      client = this.createClient(spec, current);
    } catch (err) {
      this.deps.log(`The server could not be set up: ${errorMessage(err)}`);
      this.deps.setState('stopped', errorMessage(err));
      this.deps.onStartFailed(err, spec);
      return;
    }
    this.client = client;
    try {
      await client.start();
    } catch (err) {
      // Ignore the failed client's own events from here on.
      this.generation++;
      this.client = undefined;
      try {
        await client.stop();
      } catch {
        // Already down.
      }
      this.deps.log(`The server did not start: ${errorMessage(err)}`);
      this.deps.setState('stopped', errorMessage(err));
      this.deps.onStartFailed(err, spec);
    }
  }

  private createClient(spec: LaunchSpec, current: () => boolean): ClientLike {
    return this.deps.createClient(spec, {
      onState: (state, message) => {
        if (!current()) return;
        if (state === 'running') this.deps.setState('ready', message);
        else this.deps.setState(state, message);
      },
      onStatus: (params) => {
        if (current()) this.deps.setState(params.state, params.message);
      },
    });
  }

  private async stopNow(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.generation++;
    if (client === undefined) {
      return;
    }
    try {
      await client.stop();
    } catch (err) {
      this.deps.log(`Stopping the server failed: ${errorMessage(err)}`);
    }
    this.deps.setState('stopped');
  }
}
