/** The client-side commands: palette, context menu and code lens entry points. */
import * as vscode from 'vscode';
import { buildCommandArgs, callText, chooseAssert, shorten, type EditorInfo } from './args';
import { buildDebugConfig, pickDebuggerType } from './debug';
import { DEBUGPY_EXTENSION_ID } from './extensionIds';
import {
  ClientCommand,
  errorText,
  parseDebug,
  parseExplain,
  parseFindInput,
  parseNeedsArgs,
  parsePredict,
  ProtocolError,
  ServerCommand,
  type CommandArgs,
  type ExplainAnswer,
  type FoundInput,
  type PredictAnswer,
  type RunCommandKind,
} from './protocol';
import { ArgsHistory, askForArgs, askForTarget } from './prompts';
import { ServerNotRunningError, type TokenLike } from './server';

export interface CommandDeps {
  execute(kind: RunCommandKind, args: CommandArgs, token?: TokenLike): Promise<unknown>;
  panel: {
    showExplain(answer: ExplainAnswer, context: { args: CommandArgs; call?: string | undefined }): void;
    showPrediction(answer: PredictAnswer, context: { args: CommandArgs; call?: string | undefined }): void;
  };
  isTrusted(): boolean;
  /** Marks a request in flight; call the result when done. */
  busy(): () => void;
  restart(): Promise<void>;
  showOutput(): void;
}

const CANCELLED = Symbol('cancelled');
const RUN_COMMANDS: readonly RunCommandKind[] = ['explainRun', 'findInput', 'predictOutput', 'debugRun'];

/** JSON-RPC RequestCancelled. */
const REQUEST_CANCELLED = -32800;

function activeEditorInfo(): EditorInfo | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) return undefined;
  return {
    uri: editor.document.uri.toString(),
    line: editor.selection.active.line,
    languageId: editor.document.languageId,
  };
}

export async function showError(err: unknown, deps: Pick<CommandDeps, 'restart' | 'showOutput'>): Promise<void> {
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === REQUEST_CANCELLED) {
    return;
  }
  if (err instanceof ServerNotRunningError) {
    const choice = await vscode.window.showErrorMessage(
      'tracecot: the server is not running. Check that tracecot is installed in the interpreter (setting "tracecot.interpreter").',
      'Show log',
      'Restart server',
    );
    if (choice === 'Show log') deps.showOutput();
    if (choice === 'Restart server') await deps.restart();
    return;
  }
  const text =
    err instanceof ProtocolError
      ? `unexpected answer from the server: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
  void vscode.window.showErrorMessage(`tracecot: ${text}`);
}

export class Commands {
  private readonly history = new ArgsHistory();

  constructor(private readonly deps: CommandDeps) {}

  register(): vscode.Disposable[] {
    const wrap =
      (fn: (arg: unknown) => Promise<void>) =>
      async (arg: unknown): Promise<void> => {
        try {
          await fn(arg);
        } catch (err) {
          await showError(err, this.deps);
        }
      };
    return [
      vscode.commands.registerCommand(ClientCommand.explainRun, wrap((a) => this.explainRun(a))),
      vscode.commands.registerCommand(ClientCommand.findInput, wrap((a) => this.findInput(a))),
      vscode.commands.registerCommand(ClientCommand.predictOutput, wrap((a) => this.predictOutput(a))),
      vscode.commands.registerCommand(ClientCommand.debugRun, wrap((a) => this.debugRun(a))),
      vscode.commands.registerCommand(ClientCommand.restartServer, wrap(() => this.deps.restart())),
      vscode.commands.registerCommand(ClientCommand.toggleInlayHints, wrap(() => toggleInlayHints())),
      vscode.commands.registerCommand(ClientCommand.showOutput, () => this.deps.showOutput()),
    ];
  }

  /** For server command ids run by the languageclient (code lenses): the client command of the same kind. */
  static clientCommandFor(serverCommand: string): string | undefined {
    const kind = RUN_COMMANDS.find((k) => ServerCommand[k] === serverCommand);
    return kind === undefined ? undefined : ClientCommand[kind];
  }

  async explainRun(invocation?: unknown): Promise<void> {
    const base = await this.prepare(invocation);
    if (base === undefined) return;
    const result = await this.requestWithArgs('explainRun', base, 'Explaining');
    if (result === undefined) return;
    const answer = parseExplain(result.answer);
    this.deps.panel.showExplain(answer, {
      args: result.args,
      call: callText(answer.function ?? result.args.function, answer.args ?? result.args.args),
    });
  }

  async predictOutput(invocation?: unknown): Promise<void> {
    const base = await this.prepare(invocation);
    if (base === undefined) return;
    const result = await this.requestWithArgs('predictOutput', base, 'Predicting');
    if (result === undefined) return;
    const answer = parsePredict(result.answer);
    const call = callText(answer.function ?? result.args.function, answer.args ?? result.args.args);
    const what = call ?? 'the call';
    const message = answer.verified
      ? `✓ The model predicted ${shorten(what)} → ${shorten(answer.prediction)}, and the actual run agrees.`
      : `✗ The model predicted ${shorten(what)} → ${shorten(answer.prediction)}, but the actual run gives ${shorten(answer.actual)}.`;
    const choice = await vscode.window.showInformationMessage(message, 'Show reasoning');
    if (choice === 'Show reasoning') {
      this.deps.panel.showPrediction(answer, { args: result.args, call });
    }
  }

  async debugRun(invocation?: unknown): Promise<void> {
    const base = await this.prepare(invocation);
    if (base === undefined) return;
    const type = pickDebuggerType((id) => vscode.extensions.getExtension(id) !== undefined);
    if (type === undefined) {
      const choice = await vscode.window.showErrorMessage(
        'tracecot: debugging needs the Python Debugger extension (ms-python.debugpy), which is not installed.',
        'Find extension',
      );
      if (choice === 'Find extension') {
        await vscode.commands.executeCommand('workbench.extensions.search', DEBUGPY_EXTENSION_ID);
      }
      return;
    }
    const result = await this.requestWithArgs('debugRun', base, 'Preparing the debug run of');
    if (result === undefined) return;
    const answer = parseDebug(result.answer);
    const uri = vscode.Uri.parse(result.args.uri);
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    const config = buildDebugConfig(answer, type, folder?.uri.fsPath);
    const started = await vscode.debug.startDebugging(folder, config);
    if (!started) {
      void vscode.window.showErrorMessage('tracecot: the debugger did not start; see the Debug Console.');
    }
  }

  async findInput(invocation?: unknown): Promise<void> {
    const base = await this.prepare(invocation);
    if (base === undefined) return;
    const uri = vscode.Uri.parse(base.uri);
    const document = await vscode.workspace.openTextDocument(uri);
    const target = base.target ?? (await askForTarget(base.function));
    if (target === undefined) return;
    const searched = document.getText();
    const args: CommandArgs = { ...base, target };
    const answer = await this.request('findInput', args, `tracecot: looking for an input that gives ${shorten(target, 60)}`);
    if (answer === CANCELLED) return;
    const error = errorText(answer);
    if (error !== undefined) throw new Error(error);
    const found = parseFindInput(answer);
    const fn = found.function ?? base.function;
    const verified = found.inputs.filter((i) => i.verified);
    if (verified.length === 0) {
      void vscode.window.showInformationMessage(
        `tracecot: ${found.message ?? `no input found that gives ${shorten(target, 60)} within the time budget.`}`,
      );
      return;
    }
    const picked = await vscode.window.showQuickPick(
      verified.map((input) => ({
        label: `${fn ?? ''}(${input.args})`,
        description: `→ ${input.result}`,
        detail: '✓ verified by running the code',
        input,
      })),
      { title: `tracecot: inputs that give ${shorten(target, 60)}`, placeHolder: found.message ?? 'Pick an input' },
    );
    if (picked === undefined) return;
    await this.offerAssert(document, found, picked.input, searched);
  }

  /** Offers the server's assert for the picked input; inserts it with the server's edit. */
  private async offerAssert(
    document: vscode.TextDocument,
    found: ReturnType<typeof parseFindInput>,
    input: FoundInput,
    searched: string,
  ): Promise<void> {
    const chosen = chooseAssert(found, input);
    if (chosen === undefined) {
      await vscode.env.clipboard.writeText(input.args);
      void vscode.window.showInformationMessage(`tracecot: copied the arguments ${shorten(input.args)}.`);
      return;
    }
    const choice = await vscode.window.showInformationMessage(`✓ ${shorten(chosen.text)}`, 'Insert assert', 'Copy');
    if (choice === 'Copy') {
      await vscode.env.clipboard.writeText(chosen.text);
      return;
    }
    if (choice !== 'Insert assert') return;
    // The server's edit is for the text it searched: if the document changed since, copy.
    if (chosen.edit === undefined || document.getText() !== searched) {
      await vscode.env.clipboard.writeText(chosen.text);
      void vscode.window.showWarningMessage(
        chosen.edit === undefined
          ? 'tracecot: the server gave no place for the assert; it was copied instead.'
          : 'tracecot: the file changed during the search; the assert was copied instead.',
      );
      return;
    }
    const { line, character, newText } = chosen.edit;
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(line, character), newText);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage('tracecot: could not insert the assert.');
      return;
    }
    const leading = /^\n*/.exec(newText)?.[0].length ?? 0;
    const assertLine = line + leading;
    const editor = await vscode.window.showTextDocument(document, { preserveFocus: false });
    const range = new vscode.Range(assertLine, 0, assertLine, 0);
    editor.selection = new vscode.Selection(range.start, range.start);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Arguments for a run command, or undefined (after telling the user why). */
  private async prepare(invocation: unknown): Promise<CommandArgs | undefined> {
    const built = buildCommandArgs(invocation, activeEditorInfo());
    if (!built.ok) {
      void vscode.window.showErrorMessage(`tracecot: ${built.reason}`);
      return undefined;
    }
    if (!this.deps.isTrusted()) {
      const choice = await vscode.window.showWarningMessage(
        'tracecot runs code only in a trusted workspace.',
        'Manage Workspace Trust',
      );
      if (choice === 'Manage Workspace Trust') {
        await vscode.commands.executeCommand('workbench.trust.manage');
      }
      return undefined;
    }
    return built.args;
  }

  /** Sends a request with a cancellable progress notification; CANCELLED when the user cancels. */
  private async request(kind: RunCommandKind, args: CommandArgs, title: string): Promise<unknown> {
    const done = this.deps.busy();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (_progress, token) => {
          const pending = this.deps.execute(kind, args, token);
          const cancelled = new Promise<typeof CANCELLED>((resolve) => {
            if (token.isCancellationRequested) resolve(CANCELLED);
            token.onCancellationRequested(() => resolve(CANCELLED));
          });
          // A request the user cancelled may still fail later: nobody waits for it.
          pending.catch(() => undefined);
          return Promise.race([pending, cancelled]);
        },
      );
    } finally {
      done();
    }
  }

  /** Runs `kind`; when the server asks for arguments, asks the user and runs again. */
  private async requestWithArgs(
    kind: RunCommandKind,
    base: CommandArgs,
    verb: string,
  ): Promise<{ answer: unknown; args: CommandArgs } | undefined> {
    let args = base;
    for (let attempt = 0; attempt < 2; attempt++) {
      const what = callText(args.function, args.args) ?? 'the function at the cursor';
      const answer = await this.request(kind, args, `tracecot: ${verb} ${shorten(what, 60)}…`);
      if (answer === CANCELLED) return undefined;
      const error = errorText(answer);
      if (error !== undefined) throw new Error(error);
      const need = parseNeedsArgs(answer);
      if (need === undefined) {
        if (args.args !== undefined && args.function !== undefined) {
          this.history.add(`${args.uri}#${args.function}`, args.args);
        }
        return { answer, args };
      }
      if (attempt > 0) throw new ProtocolError(`${kind}: the server asked for arguments again`);
      const fn = need.function !== '' ? need.function : args.function;
      const chosen = await askForArgs(need, fn === undefined ? [] : this.history.get(`${args.uri}#${fn}`));
      if (chosen === undefined) return undefined;
      args = { ...args, ...(fn !== undefined ? { function: fn } : {}), args: chosen };
    }
    return undefined;
  }
}

/** Flips `tracecot.inlayHints.enabled` where it is set (folder, workspace, else user). */
export async function toggleInlayHints(): Promise<void> {
  const resource = vscode.window.activeTextEditor?.document.uri;
  const config = vscode.workspace.getConfiguration('tracecot', resource);
  const info = config.inspect<boolean>('inlayHints.enabled');
  const next = !config.get<boolean>('inlayHints.enabled', true);
  const target =
    info?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : info?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update('inlayHints.enabled', next, target);
  vscode.window.setStatusBarMessage(`tracecot: inlay hints ${next ? 'on' : 'off'}`, 3000);
}
