/** The vscode-languageclient side: builds a LanguageClient for a LaunchSpec. */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  InlayHintRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { parseStatus, ServerCommand, StatusNotification, type CommandArgs } from './protocol';
import { CrashPolicy, type ClientEvents, type ClientLike, type LaunchSpec, type TokenLike } from './server';

export interface ClientHooks {
  output: vscode.OutputChannel;
  inlayHintsEnabled(): boolean;
  /** Server commands run from code lenses etc. are routed to the client command of the same name. */
  routeServerCommand(command: string, args: unknown[]): Thenable<unknown> | undefined;
}

const SERVER_COMMANDS = new Set<string>(Object.values(ServerCommand));

/** Start failures are reported by the extension with a hint; the library's own popup would repeat them. */
class TracecotLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    const startFailure = message.includes("couldn't create connection to server");
    super.error(message, data, startFailure ? false : showNotification);
  }
}

function toCancellationToken(token: TokenLike | undefined): vscode.CancellationToken | undefined {
  if (token === undefined) return undefined;
  if ('onCancellationRequested' in token) return token as vscode.CancellationToken;
  return undefined;
}

export function createLanguageClient(spec: LaunchSpec, events: ClientEvents, hooks: ClientHooks): ClientLike {
  const serverOptions: ServerOptions = {
    command: spec.command,
    args: spec.args,
    // No transport: plain stdio, no extra `--stdio` argument.
    options: {
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
    },
  };
  const crashes = new CrashPolicy();
  let everRunning = false;
  let stopMessage: string | undefined;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
    ],
    outputChannel: hooks.output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: spec.initializationOptions,
    // A failed `initialize` is a start failure, which the extension reports with a hint: not
    // the library's bare popup of the error message as well.
    initializationFailedHandler: (error) => {
      hooks.output.appendLine(`[tracecot] initialize failed: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    },
    // Sends workspace/didChangeConfiguration for `tracecot`; workspace/configuration is answered by default.
    synchronize: { configurationSection: 'tracecot' },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        if (!everRunning) {
          // Exited during start-up (e.g. tracecot not installed): the start failure is reported once.
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        if (crashes.shouldRestart(Date.now())) {
          hooks.output.appendLine('[tracecot] The server exited; restarting it.');
          return { action: CloseAction.Restart, handled: true };
        }
        stopMessage = 'The server exited 4 times in 3 minutes and was not restarted.';
        return {
          action: CloseAction.DoNotRestart,
          message: 'tracecot: the server keeps exiting. See the "tracecot" output, then run "tracecot: Restart server".',
        };
      },
    },
    middleware: {
      provideInlayHints: (document, range, token, next) => (hooks.inlayHintsEnabled() ? next(document, range, token) : []),
      executeCommand: (command, args, next) => {
        if (SERVER_COMMANDS.has(command)) {
          const routed = hooks.routeServerCommand(command, args);
          if (routed !== undefined) return routed;
        }
        return next(command, args) as unknown;
      },
    },
  };
  const client = new TracecotLanguageClient('tracecot', 'tracecot', serverOptions, clientOptions);
  client.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      everRunning = true;
      events.onState('running');
    } else if (e.newState === State.Starting) {
      events.onState('starting');
    } else {
      events.onState('stopped', stopMessage);
    }
  });
  client.onNotification(StatusNotification, (params: unknown) => {
    const status = parseStatus(params);
    if (status !== undefined) events.onStatus(status);
  });

  return {
    start: async () => {
      await client.start();
      // A server that exits during start-up does not make start() reject: the library drops
      // its start promise when the connection closes. Report it as the start failure it is.
      if (!client.isRunning()) {
        throw new Error('the server exited during start-up; see the "tracecot" output');
      }
    },
    stop: async () => {
      if (client.needsStop()) await client.stop(2000);
    },
    isRunning: () => client.isRunning(),
    execute: (command: string, args: CommandArgs, token?: TokenLike) =>
      client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] }, toCancellationToken(token)),
    notify: (method: string, params: unknown) => client.sendNotification(method, params),
    refreshInlayHints: () => {
      const feature = client.getFeature(InlayHintRequest.method);
      for (const editor of vscode.window.visibleTextEditors) {
        feature.getProvider(editor.document)?.onDidChangeInlayHints.fire();
      }
    },
  };
}
