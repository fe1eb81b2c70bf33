/**
 * Optional use of the Python extension's API (`ms-python.python`) to find
 * the workspace's interpreter. The extension is NOT a dependency: every
 * call copes with it being absent, inactive or of an older API.
 */
import * as vscode from 'vscode';
import { PYTHON_EXTENSION_ID } from './extensionIds';

interface EnvironmentPath {
  id: string;
  path: string;
}

interface ResolvedEnvironment {
  executable?: { uri?: vscode.Uri | undefined } | undefined;
}

/** The parts of the Python extension's API this extension uses. */
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment?(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
    onDidChangeExecutionDetails?: vscode.Event<unknown>;
  };
}

async function api(): Promise<PythonApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  if (ext === undefined) {
    return undefined;
  }
  try {
    const exports = ext.isActive ? ext.exports : await ext.activate();
    return typeof exports === 'object' && exports !== null ? exports : undefined;
  } catch {
    return undefined;
  }
}

/** The command that runs the selected interpreter, or undefined. */
export async function pythonExtensionCommand(resource: vscode.Uri | undefined): Promise<string[] | undefined> {
  const py = await api();
  if (py === undefined) {
    return undefined;
  }
  try {
    const envs = py.environments;
    if (envs !== undefined) {
      const active = envs.getActiveEnvironmentPath(resource);
      const resolved = envs.resolveEnvironment ? await envs.resolveEnvironment(active) : undefined;
      const exe = resolved?.executable?.uri?.fsPath ?? active.path;
      if (exe) {
        return [exe];
      }
    }
    const cmd = py.settings?.getExecutionDetails(resource).execCommand;
    if (cmd !== undefined && cmd.length > 0) {
      return cmd;
    }
  } catch {
    // An API that throws is treated as absent.
  }
  return undefined;
}

/** Calls `listener` when the selected interpreter changes. */
export async function onPythonInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const py = await api();
  const event = py?.environments?.onDidChangeActiveEnvironmentPath ?? py?.settings?.onDidChangeExecutionDetails;
  return event ? event(() => listener()) : undefined;
}
