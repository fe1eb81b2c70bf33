/** What makes the server restart or update: settings, trust and interpreter changes. */
import * as vscode from 'vscode';
import { onPythonInterpreterChange } from './pythonExtension';
import type { ServerManager } from './server';

export type Restartable = Pick<ServerManager, 'onConfigurationChanged' | 'onTrustGranted' | 'onInterpreterChanged'>;

export function registerTriggers(manager: Restartable, onTrustGranted: () => void): vscode.Disposable[] {
  const disposables: vscode.Disposable[] = [
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('tracecot')) {
        void manager.onConfigurationChanged();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      onTrustGranted();
      void manager.onTrustGranted();
    }),
  ];
  // The Python extension is optional: subscribe once it has activated, if it is there.
  void onPythonInterpreterChange(() => {
    void manager.onInterpreterChanged();
  }).then((d) => {
    if (d !== undefined) disposables.push(d);
  });
  return disposables;
}
