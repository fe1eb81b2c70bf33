/** The status bar item; keeps the state and renders it with presentStatus. */
import * as vscode from 'vscode';
import { presentStatus, type ServerState, type StatusInputs } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private inputs: StatusInputs;

  constructor(trusted: boolean) {
    this.item = vscode.window.createStatusBarItem('tracecot.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'tracecot';
    this.inputs = { state: 'stopped', trusted, busy: 0 };
    this.render();
    this.item.show();
  }

  get state(): ServerState {
    return this.inputs.state;
  }

  setState(state: ServerState, message?: string): void {
    this.inputs = { ...this.inputs, state, message };
    this.render();
  }

  setTrusted(trusted: boolean): void {
    this.inputs = { ...this.inputs, trusted };
    this.render();
  }

  /** Marks one client request as in flight until the returned function is called. */
  busy(): () => void {
    this.inputs = { ...this.inputs, busy: this.inputs.busy + 1 };
    this.render();
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.inputs = { ...this.inputs, busy: Math.max(0, this.inputs.busy - 1) };
        this.render();
      }
    };
  }

  private render(): void {
    const view = presentStatus(this.inputs);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
