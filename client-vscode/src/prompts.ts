/** Input boxes and quick picks that ask the user for arguments and targets. */
import * as vscode from 'vscode';
import { checkArgsSource } from './args';
import type { NeedsArgsAnswer } from './protocol';

const ENTER_ARGS = '$(edit) Enter arguments…';

interface ArgsItem extends vscode.QuickPickItem {
  value?: string;
}

/** Arguments used before, per function, most recent first. */
export class ArgsHistory {
  private readonly byKey = new Map<string, string[]>();

  constructor(private readonly max = 5) {}

  get(key: string): string[] {
    return [...(this.byKey.get(key) ?? [])];
  }

  add(key: string, args: string): void {
    const list = (this.byKey.get(key) ?? []).filter((a) => a !== args);
    list.unshift(args);
    this.byKey.set(key, list.slice(0, this.max));
  }
}

/**
 * Asks which arguments to run the function with: a quick pick over the
 * server's suggestions and recent arguments, plus "Enter arguments…".
 * Undefined when the user cancels.
 */
export async function askForArgs(need: NeedsArgsAnswer, recent: readonly string[]): Promise<string | undefined> {
  const fn = need.function !== '' ? need.function : 'the function';
  const seen = new Set<string>();
  const items: ArgsItem[] = [];
  for (const [values, description] of [
    [recent, 'used before'],
    [need.suggestions, 'suggested'],
  ] as const) {
    for (const value of values) {
      if (seen.has(value)) continue;
      seen.add(value);
      items.push({ label: `${fn}(${value})`, description, value });
    }
  }
  if (items.length > 0) {
    items.push({ label: ENTER_ARGS, alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, {
      title: `tracecot: run ${fn} with which arguments?`,
      placeHolder: 'Pick a call, or enter arguments',
      matchOnDescription: true,
    });
    if (picked === undefined) return undefined;
    if (picked.value !== undefined) return picked.value;
  }
  const typed = await vscode.window.showInputBox({
    title: `tracecot: arguments for ${fn}(…)`,
    prompt: 'Python source of the arguments, as written between the parentheses of the call',
    placeHolder: 'e.g. [3, 1, 2], key=len',
    value: recent[0] ?? '',
    ignoreFocusOut: true,
    validateInput: checkArgsSource,
  });
  return typed === undefined ? undefined : typed.trim();
}

/** Asks for the wanted output (Python source); undefined when cancelled. */
export async function askForTarget(fn: string | undefined): Promise<string | undefined> {
  const target = await vscode.window.showInputBox({
    title: 'tracecot: what input gives this output?',
    prompt: `The output you want${fn !== undefined ? ` from ${fn}` : ''}, as a Python expression`,
    placeHolder: 'e.g. [1, 2, 3]',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Enter the output you want, e.g. 42' : undefined),
  });
  return target === undefined ? undefined : target.trim();
}
