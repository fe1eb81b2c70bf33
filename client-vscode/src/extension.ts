/** Activation: wires the output channel, status bar, server manager, commands and triggers. */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { createLanguageClient } from './client';
import { Commands } from './commands';
import { chooseInterpreter } from './interpreter';
import { pythonExtensionCommand } from './pythonExtension';
import { ResultPanel } from './resultPanel';
import { ServerManager, type LaunchSpec } from './server';
import { readSettings, type TracecotSettings } from './settings';
import { StatusBar } from './statusBar';
import { registerTriggers } from './triggers';

let manager: ServerManager | undefined;

function workspaceFolderPath(): string | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

function currentSettings(): TracecotSettings {
  const config = vscode.workspace.getConfiguration('tracecot');
  return readSettings((key) => config.get(key));
}

async function resolveInterpreter(trusted: boolean, settings: TracecotSettings) {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return chooseInterpreter({
    trusted,
    setting: settings.interpreter,
    // Only asked in a trusted workspace with no explicit setting.
    pythonExtension: trusted && settings.interpreter === '' ? await pythonExtensionCommand(folder) : undefined,
    workspaceFolder: workspaceFolderPath(),
    home: os.homedir(),
    platform: process.platform,
  });
}

async function onStartFailed(error: unknown, spec: LaunchSpec, output: vscode.OutputChannel): Promise<void> {
  const detail = error instanceof Error ? error.message : String(error);
  const choice = await vscode.window.showErrorMessage(
    `tracecot: the server did not start with "${spec.command}" (${detail}). ` +
      'Install tracecot in that Python (pip install tracecot) or set "tracecot.interpreter".',
    'Show log',
    'Open settings',
  );
  if (choice === 'Show log') output.show(true);
  if (choice === 'Open settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'tracecot.interpreter');
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('tracecot');
  const status = new StatusBar(vscode.workspace.isTrusted);
  const panel = new ResultPanel();
  const log = (line: string): void => output.appendLine(`[tracecot ${new Date().toLocaleTimeString()}] ${line}`);

  const server = new ServerManager({
    createClient: (spec, events) =>
      createLanguageClient(spec, events, {
        output,
        inlayHintsEnabled: () => vscode.workspace.getConfiguration('tracecot').get<boolean>('inlayHints.enabled', true),
        routeServerCommand: (command, args) => {
          const clientCommand = Commands.clientCommandFor(command);
          return clientCommand === undefined ? undefined : vscode.commands.executeCommand(clientCommand, args[0]);
        },
      }),
    resolveInterpreter,
    readSettings: currentSettings,
    isTrusted: () => vscode.workspace.isTrusted,
    cwd: workspaceFolderPath,
    setState: (state, message) => status.setState(state, message),
    log,
    onStartFailed: (error, spec) => void onStartFailed(error, spec, output),
  });
  manager = server;

  const commands = new Commands({
    execute: (kind, args, token) => server.execute(kind, args, token),
    panel,
    isTrusted: () => vscode.workspace.isTrusted,
    busy: () => status.busy(),
    restart: () => server.restart('restart command'),
    showOutput: () => output.show(true),
  });

  context.subscriptions.push(
    output,
    status,
    panel,
    ...commands.register(),
    ...registerTriggers(server, () => status.setTrusted(true)),
    { dispose: () => void server.dispose() },
  );
  void server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}
