/**
 * Just enough reading of Python source to find the function around a line
 * and where it ends, and to place an assert after it. Pure: no vscode import.
 * The server knows better; these are fallbacks for when it does not say.
 */

export interface FunctionSpan {
  name: string;
  /** 0-based line of `def`. */
  defLine: number;
  /** 0-based last line of the body (not counting trailing blank or comment lines). */
  endLine: number;
  indent: string;
}

const DEF = /^(\s*)(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*[([]/;

function indentOf(line: string): string {
  return /^\s*/.exec(line)?.[0] ?? '';
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Counts bracket depth changes, ignoring brackets in strings and comments (single-line only). */
function bracketDelta(line: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '#') {
      break;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
    }
  }
  return depth;
}

/** The last body line of the function whose `def` is on `defLine`. */
export function functionEnd(lines: readonly string[], defLine: number): number {
  const defIndent = indentOf(lines[defLine] ?? '').length;
  // The signature may span lines: skip to the line that closes its brackets.
  let i = defLine;
  let depth = bracketDelta(lines[i] ?? '');
  while (depth > 0 && i + 1 < lines.length) {
    i++;
    depth += bracketDelta(lines[i] ?? '');
  }
  let end = i;
  let inTriple: string | undefined;
  for (let j = i + 1; j < lines.length; j++) {
    const line = lines[j] ?? '';
    if (inTriple !== undefined) {
      end = j;
      if (line.includes(inTriple)) inTriple = undefined;
      continue;
    }
    if (isBlankOrComment(line)) continue;
    if (indentOf(line).length <= defIndent) break;
    end = j;
    for (const q of ['"""', "'''"]) {
      const count = line.split(q).length - 1;
      if (count % 2 === 1) {
        inTriple = q;
        break;
      }
    }
  }
  return end;
}

/** The innermost function whose span contains `line`. */
export function enclosingFunction(lines: readonly string[], line: number): FunctionSpan | undefined {
  for (let d = Math.min(line, lines.length - 1); d >= 0; d--) {
    const m = DEF.exec(lines[d] ?? '');
    if (m === null) continue;
    const end = functionEnd(lines, d);
    if (line <= end || d === line) {
      return { name: m[2] ?? '', defLine: d, endLine: end, indent: m[1] ?? '' };
    }
  }
  return undefined;
}

/** The 0-based last line of the top-level statement (class, def, if…) around `line`. */
function topLevelEnd(lines: readonly string[], line: number): number {
  for (let d = Math.min(line, lines.length - 1); d >= 0; d--) {
    const text = lines[d] ?? '';
    if (!isBlankOrComment(text) && indentOf(text) === '') return functionEnd(lines, d);
  }
  return line;
}

/** `assert f(<args>) == <target>`. */
export function buildAssertText(functionName: string, args: string, target: string): string {
  return `assert ${functionName}(${args.trim()}) == ${target.trim()}`;
}

export interface Insertion {
  line: number;
  character: number;
  text: string;
}

/**
 * Where and what to insert so that `statement` stands on its own line just
 * after the function: at `insertLine` when the server gave one, else after
 * the function around `cursorLine`. A blank line separates it from the
 * function; `undefined` when no place can be found.
 */
export function assertInsertion(
  lines: readonly string[],
  statement: string,
  insertLine: number | undefined,
  cursorLine: number | undefined,
): Insertion | undefined {
  let at: number;
  let indent = '';
  if (insertLine !== undefined) {
    at = Math.max(0, Math.min(insertLine, lines.length));
    const fn = enclosingFunction(lines, Math.max(0, at - 1));
    indent = fn !== undefined && fn.endLine === at - 1 ? fn.indent : '';
  } else {
    const fn = cursorLine === undefined ? undefined : enclosingFunction(lines, cursorLine);
    if (fn === undefined) return undefined;
    at = fn.endLine + 1;
    indent = fn.indent;
  }
  if (indent !== '') {
    // A method or nested function: an assert inside the class (or the outer function) could
    // not call it, so it goes after the whole top-level statement, at column 0.
    at = topLevelEnd(lines, Math.max(0, at - 1)) + 1;
    indent = '';
  }
  const body = statement
    .trim()
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
  if (at >= lines.length) {
    const last = lines.length - 1;
    const lastText = lines[last] ?? '';
    if (last < 0) return { line: 0, character: 0, text: body + '\n' };
    const sep = lastText.trim() === '' ? '\n' : '\n\n';
    return { line: last, character: lastText.length, text: sep + body + '\n' };
  }
  const before = at > 0 && (lines[at - 1] ?? '').trim() !== '' ? '\n' : '';
  const after = (lines[at] ?? '').trim() !== '' ? '\n' : '';
  return { line: at, character: 0, text: before + body + '\n' + after };
}
