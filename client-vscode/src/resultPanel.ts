/** The webview panel that shows explanations and predictions. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ClientCommand, type CommandArgs, type ExplainAnswer, type PredictAnswer } from './protocol';
import { makeNonce, parseWebviewMessage, renderExplainHtml, renderPredictionHtml } from './panel';

export interface PanelContext {
  args: CommandArgs;
  /** e.g. `f([1, 2])`. */
  call?: string | undefined;
}

export class ResultPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private context: PanelContext | undefined;
  private sourceColumn: vscode.ViewColumn | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  showExplain(answer: ExplainAnswer, context: PanelContext): void {
    const canDebug = answer.runId !== undefined || context.args.args !== undefined || answer.args !== undefined;
    const ctx: PanelContext = {
      call: context.call,
      args: {
        ...context.args,
        ...(answer.runId !== undefined ? { runId: answer.runId } : {}),
        ...(answer.function !== undefined ? { function: answer.function } : {}),
        ...(answer.args !== undefined ? { args: answer.args } : {}),
      },
    };
    const panel = this.open(`tracecot: ${answer.title}`, ctx);
    panel.webview.html = renderExplainHtml(answer, {
      nonce: makeNonce(randomBytes),
      cspSource: panel.webview.cspSource,
      ...(context.call !== undefined ? { call: context.call } : {}),
      canDebug,
    });
  }

  showPrediction(answer: PredictAnswer, context: PanelContext): void {
    const panel = this.open(`tracecot: prediction${context.call !== undefined ? ` for ${context.call}` : ''}`, context);
    panel.webview.html = renderPredictionHtml(answer, {
      nonce: makeNonce(randomBytes),
      cspSource: panel.webview.cspSource,
      ...(context.call !== undefined ? { call: context.call } : {}),
    });
  }

  private open(title: string, context: PanelContext): vscode.WebviewPanel {
    this.context = context;
    this.sourceColumn = vscode.window.activeTextEditor?.viewColumn ?? this.sourceColumn;
    if (this.panel !== undefined) {
      this.panel.title = title;
      this.panel.reveal(undefined, true);
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      'tracecot.result',
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: false, enableFindWidget: true, localResourceRoots: [] },
    );
    this.panel = panel;
    this.disposables.push(
      panel.onDidDispose(() => {
        this.panel = undefined;
      }),
      panel.webview.onDidReceiveMessage((m: unknown) => {
        void this.onMessage(m);
      }),
    );
    return panel;
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    const ctx = this.context;
    if (message === undefined || ctx === undefined) {
      return;
    }
    if (message.type === 'debug') {
      await vscode.commands.executeCommand(ClientCommand.debugRun, ctx.args);
      return;
    }
    try {
      const uri = vscode.Uri.parse(ctx.args.uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      const line = Math.min(message.line, Math.max(0, doc.lineCount - 1));
      const range = new vscode.Range(line, 0, line, doc.lineAt(line).text.length);
      const editor = await vscode.window.showTextDocument(doc, {
        viewColumn: this.sourceColumn ?? vscode.ViewColumn.One,
        preserveFocus: false,
        selection: new vscode.Range(line, 0, line, 0),
      });
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (err) {
      void vscode.window.showErrorMessage(`tracecot: cannot open ${ctx.args.uri}: ${String(err)}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
    this.disposables.length = 0;
  }
}
