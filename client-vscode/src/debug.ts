/** The debug configuration for "Debug this run". Pure: no vscode import. */
import { DEBUGPY_EXTENSION_ID, PYTHON_EXTENSION_ID } from './extensionIds';
import type { DebugAnswer } from './protocol';

export type DebuggerType = 'debugpy' | 'python';

/** `debugpy` with the Python Debugger extension; `python` with an older Python extension that has it built in. */
export function pickDebuggerType(installed: (extensionId: string) => boolean): DebuggerType | undefined {
  if (installed(DEBUGPY_EXTENSION_ID)) return 'debugpy';
  if (installed(PYTHON_EXTENSION_ID)) return 'python';
  return undefined;
}

export interface PythonLaunchConfig {
  type: DebuggerType;
  request: 'launch';
  name: string;
  program: string;
  args: string[];
  cwd: string;
  justMyCode: boolean;
  console: 'internalConsole';
  [key: string]: unknown;
}

export function buildDebugConfig(answer: DebugAnswer, type: DebuggerType, fallbackCwd?: string): PythonLaunchConfig {
  return {
    type,
    request: 'launch',
    name: 'tracecot: debug run',
    program: answer.program,
    args: [...answer.args],
    cwd: answer.cwd !== '' ? answer.cwd : (fallbackCwd ?? ''),
    justMyCode: true,
    console: 'internalConsole',
  };
}
