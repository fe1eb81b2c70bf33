/**
 * Which Python runs the server. Pure: no vscode import.
 *
 * Order, in a trusted workspace:
 *   1. the `tracecot.interpreter` setting, when not empty (an explicit choice wins);
 *   2. the interpreter selected in the Python extension, when it is installed;
 *   3. `python3` (`python` on Windows).
 * In an untrusted workspace only 3: the setting or a workspace-selected
 * interpreter could point at a binary that came with the workspace.
 */

export type InterpreterSource = 'setting' | 'pythonExtension' | 'default';

export interface InterpreterChoice {
  /** The executable. */
  command: string;
  /** Arguments before ours (e.g. `conda run -n env python` → `['run', '-n', 'env', 'python']`). */
  args: string[];
  source: InterpreterSource;
}

export interface InterpreterInputs {
  trusted: boolean;
  /** Raw `tracecot.interpreter` value. */
  setting: string;
  /** The Python extension's execution command, when it gave one. */
  pythonExtension?: readonly string[] | undefined;
  workspaceFolder?: string | undefined;
  home?: string | undefined;
  platform?: string | undefined;
}

export const SERVER_MODULE_ARGS: readonly string[] = ['-m', 'tracecot.server', 'serve'];

export function defaultPython(platform: string | undefined): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/** Expands `${workspaceFolder}`, `${userHome}` and a leading `~`. */
export function expandPath(value: string, workspaceFolder: string | undefined, home: string | undefined): string {
  let out = value.trim();
  if (home !== undefined && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
    out = home + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, () => home ?? '${userHome}');
  out = out.replace(/\$\{workspaceFolder\}/g, () => workspaceFolder ?? '${workspaceFolder}');
  return out;
}

export function chooseInterpreter(input: InterpreterInputs): InterpreterChoice {
  const fallback: InterpreterChoice = { command: defaultPython(input.platform), args: [], source: 'default' };
  if (!input.trusted) {
    return fallback;
  }
  const setting = input.setting.trim();
  if (setting !== '') {
    return { command: expandPath(setting, input.workspaceFolder, input.home), args: [], source: 'setting' };
  }
  const ext = (input.pythonExtension ?? []).filter((part) => part !== '');
  const [command, ...args] = ext;
  if (command !== undefined) {
    return { command, args, source: 'pythonExtension' };
  }
  return fallback;
}

/** The full server command line for an interpreter. */
export function serverCommandLine(choice: InterpreterChoice): { command: string; args: string[] } {
  return { command: choice.command, args: [...choice.args, ...SERVER_MODULE_ARGS] };
}

export function sameInterpreter(a: InterpreterChoice | undefined, b: InterpreterChoice | undefined): boolean {
  if (a === undefined || b === undefined) {
    return a === b;
  }
  return a.command === b.command && a.args.length === b.args.length && a.args.every((x, i) => x === b.args[i]);
}

export function describeInterpreter(choice: InterpreterChoice): string {
  const where =
    choice.source === 'setting'
      ? 'from tracecot.interpreter'
      : choice.source === 'pythonExtension'
        ? 'selected in the Python extension'
        : 'default';
  return `${[choice.command, ...choice.args].join(' ')} (${where})`;
}
