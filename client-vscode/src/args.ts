/**
 * Building the arguments object of a run command from how the command was
 * invoked and from the active editor. Pure: no vscode import.
 */
import { sanitizeArgs, type CommandArgs, type FindInputAnswer, type FoundInput, type InsertEdit } from './protocol';

export interface EditorInfo {
  uri: string;
  /** 0-based cursor line. */
  line: number;
  languageId: string;
}

export type ArgsResult = { ok: true; args: CommandArgs } | { ok: false; reason: string };

interface UriLike {
  scheme: string;
  toString(): string;
}

function isUriLike(x: unknown): x is UriLike {
  return typeof x === 'object' && x !== null && typeof (x as { scheme?: unknown }).scheme === 'string';
}

/**
 * - A code lens or another command passes an arguments object: used as is.
 * - The editor context menu passes the document's Uri: the cursor line is
 *   taken when that document is the active one.
 * - The palette passes nothing: the active editor gives uri and line.
 */
export function buildCommandArgs(invocation: unknown, editor: EditorInfo | undefined): ArgsResult {
  const given = sanitizeArgs(invocation);
  if (given !== undefined) {
    return { ok: true, args: given };
  }
  if (isUriLike(invocation)) {
    const uri = invocation.toString();
    if (editor !== undefined && editor.uri === uri) {
      return { ok: true, args: { uri, line: editor.line } };
    }
    return { ok: true, args: { uri } };
  }
  if (editor === undefined) {
    return { ok: false, reason: 'Open a Python file and put the cursor inside a function.' };
  }
  if (editor.languageId !== 'python') {
    return { ok: false, reason: 'tracecot works on Python files: open one and put the cursor inside a function.' };
  }
  return { ok: true, args: { uri: editor.uri, line: editor.line } };
}

/** `f([1, 2])`, or undefined when the function or the arguments are unknown. */
export function callText(fn: string | undefined, args: string | undefined): string | undefined {
  if (fn === undefined || fn === '' || args === undefined) {
    return undefined;
  }
  return `${fn}(${args.trim()})`;
}

/** Shortens a value for a one-line message. */
export function shorten(text: string, max = 120): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/**
 * A light check of Python argument source: brackets balanced, strings
 * closed. Returns a message for the input box, or undefined when fine.
 */
export function checkArgsSource(source: string): string | undefined {
  if (source.trim() === '') {
    return 'Enter the arguments as Python source, e.g. [3, 1, 2]';
  }
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] ?? '';
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (source.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (c === '(' || c === '[' || c === '{') {
      stack.push(c);
    } else if (c in closing) {
      if (stack.pop() !== closing[c]) return `Unbalanced "${c}"`;
    }
  }
  if (quote !== undefined) return 'Unclosed string';
  if (stack.length > 0) return `Unclosed "${stack[stack.length - 1] ?? ''}"`;
  return undefined;
}

/**
 * The assert for a picked input and the server's edit that inserts it: the input's own, else
 * the answer's when the pick is the first verified input. The client never writes Python
 * itself: without an edit from the server there is nothing to insert.
 */
export function chooseAssert(answer: FindInputAnswer, picked: FoundInput): { text: string; edit?: InsertEdit } | undefined {
  if (picked.assertText !== undefined && picked.assertText.trim() !== '') {
    return picked.edit === undefined ? { text: picked.assertText.trim() } : { text: picked.assertText.trim(), edit: picked.edit };
  }
  const first = answer.inputs.find((i) => i.verified);
  if (answer.assertText !== undefined && answer.assertText.trim() !== '' && first === picked) {
    return answer.edit === undefined ? { text: answer.assertText.trim() } : { text: answer.assertText.trim(), edit: answer.edit };
  }
  return undefined;
}
