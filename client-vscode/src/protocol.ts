/**
 * The LSP contract between this extension and the tracecot server
 * (`python -m tracecot.server serve`). Pure: no vscode import.
 *
 * All line numbers are 0-based, as everywhere in LSP.
 */

/** Server-side command ids, run with `workspace/executeCommand`. */
export const ServerCommand = {
  explainRun: 'tracecot.server.explainRun',
  findInput: 'tracecot.server.findInput',
  predictOutput: 'tracecot.server.predictOutput',
  debugRun: 'tracecot.server.debugRun',
} as const;

export type RunCommandKind = keyof typeof ServerCommand;

/** Client-side command ids (palette, context menu, code lenses). */
export const ClientCommand = {
  explainRun: 'tracecot.explainRun',
  findInput: 'tracecot.findInput',
  predictOutput: 'tracecot.predictOutput',
  debugRun: 'tracecot.debugRun',
  restartServer: 'tracecot.restartServer',
  toggleInlayHints: 'tracecot.toggleInlayHints',
  showOutput: 'tracecot.showOutput',
} as const;

/** Server → client: `{ state, message? }`. */
export const StatusNotification = 'tracecot/status';
/** Client → server: `{ trusted: true }` once the user trusts the workspace. */
export const TrustChangedNotification = 'tracecot/trustChanged';

/** The single element of `arguments` of every run command. */
export interface CommandArgs {
  uri: string;
  function?: string;
  line?: number;
  args?: string;
  target?: string;
  runId?: string;
}

export interface Step {
  index: number;
  line: number;
  text: string;
  verified: boolean | null;
  depth: number;
}

export type Verdict = 'ok' | 'wrong' | 'unchecked';

export interface ReasoningSentence {
  text: string;
  verdict: Verdict;
  actual?: string;
}

export interface ExplainAnswer {
  title: string;
  markdown: string;
  /** Rendered by other front ends; this client renders `markdown` itself. */
  html?: string;
  verified: boolean;
  steps: Step[];
  reasoning?: ReasoningSentence[];
  /** Optional: lets the panel offer "Debug this run". */
  runId?: string;
  function?: string;
  args?: string;
}

export interface NeedsArgsAnswer {
  needsArgs: true;
  function: string;
  suggestions: string[];
}

/** An LSP TextEdit that inserts text (its range is empty), ready to apply as it is. */
export interface InsertEdit {
  line: number;
  character: number;
  newText: string;
}

export interface FoundInput {
  args: string;
  verified: boolean;
  result: string;
  /** Optional per-input assert statement. */
  assertText?: string;
  /** The server's edit that inserts `assertText` into the module. */
  edit?: InsertEdit;
}

export interface FindInputAnswer {
  inputs: FoundInput[];
  message?: string;
  assertText?: string;
  /** The edit that inserts the answer's `assertText`. */
  edit?: InsertEdit;
  /** 0-based line before which the assert is inserted (just after the function). */
  insertLine?: number;
  function?: string;
}

export interface PredictAnswer {
  prediction: string;
  verified: boolean;
  actual: string;
  reasoning?: ReasoningSentence[];
  function?: string;
  args?: string;
}

export interface DebugAnswer {
  program: string;
  args: string[];
  cwd: string;
}

export type ServerStatusState = 'ready' | 'running' | 'modelLoading' | 'error';

export interface StatusParams {
  state: ServerStatusState;
  message?: string;
}

/** A server answer that does not have the agreed shape. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function optString(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v === 'string') {
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    return String(v);
  }
  throw new ProtocolError(`${what}: "${key}" is missing or not a string`);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** `{ "error": "..." }` answers. */
export function errorText(answer: unknown): string | undefined {
  if (isObj(answer) && typeof answer.error === 'string') {
    return answer.error;
  }
  return undefined;
}

export function parseNeedsArgs(answer: unknown): NeedsArgsAnswer | undefined {
  if (!isObj(answer) || answer.needsArgs !== true) {
    return undefined;
  }
  const suggestions = Array.isArray(answer.suggestions)
    ? answer.suggestions.filter((s): s is string => typeof s === 'string')
    : [];
  return {
    needsArgs: true,
    function: typeof answer.function === 'string' ? answer.function : '',
    suggestions,
  };
}

function parseReasoning(x: unknown): ReasoningSentence[] | undefined {
  if (!Array.isArray(x)) {
    return undefined;
  }
  const out: ReasoningSentence[] = [];
  for (const r of x) {
    if (!isObj(r) || typeof r.text !== 'string') {
      continue;
    }
    const verdict: Verdict = r.verdict === 'ok' || r.verdict === 'wrong' ? r.verdict : 'unchecked';
    const actual = optString(r, 'actual');
    out.push(actual === undefined ? { text: r.text, verdict } : { text: r.text, verdict, actual });
  }
  return out;
}

function parseStep(x: unknown, i: number): Step | undefined {
  if (!isObj(x) || typeof x.text !== 'string') {
    return undefined;
  }
  return {
    index: typeof x.index === 'number' ? x.index : i,
    line: isNonNegInt(x.line) ? x.line : -1,
    text: x.text,
    verified: typeof x.verified === 'boolean' ? x.verified : null,
    depth: isNonNegInt(x.depth) ? x.depth : 0,
  };
}

export function parseExplain(answer: unknown): ExplainAnswer {
  if (!isObj(answer)) {
    throw new ProtocolError('explainRun: the server answer is not an object');
  }
  const steps = Array.isArray(answer.steps)
    ? answer.steps.map(parseStep).filter((s): s is Step => s !== undefined)
    : [];
  const out: ExplainAnswer = {
    title: optString(answer, 'title') ?? 'explanation',
    markdown: optString(answer, 'markdown') ?? '',
    verified: answer.verified === true,
    steps,
  };
  const html = optString(answer, 'html');
  if (html !== undefined) out.html = html;
  const reasoning = parseReasoning(answer.reasoning);
  if (reasoning !== undefined) out.reasoning = reasoning;
  for (const key of ['runId', 'function', 'args'] as const) {
    const v = optString(answer, key);
    if (v !== undefined) out[key] = v;
  }
  if (out.markdown === '' && steps.length === 0) {
    throw new ProtocolError('explainRun: the answer has neither "markdown" nor "steps"');
  }
  return out;
}

export function parseFindInput(answer: unknown): FindInputAnswer {
  if (!isObj(answer) || !Array.isArray(answer.inputs)) {
    throw new ProtocolError('findInput: the answer has no "inputs" list');
  }
  const inputs: FoundInput[] = [];
  for (const i of answer.inputs) {
    if (!isObj(i) || typeof i.args !== 'string') {
      continue;
    }
    const found: FoundInput = {
      args: i.args,
      verified: i.verified === true,
      result: typeof i.result === 'string' ? i.result : '',
    };
    const a = optString(i, 'assertText');
    if (a !== undefined) found.assertText = a;
    const edit = parseInsertEdit(i.edit);
    if (edit !== undefined) found.edit = edit;
    inputs.push(found);
  }
  const out: FindInputAnswer = { inputs };
  for (const key of ['message', 'assertText', 'function'] as const) {
    const v = optString(answer, key);
    if (v !== undefined) out[key] = v;
  }
  const edit = parseInsertEdit(answer.edit);
  if (edit !== undefined) out.edit = edit;
  if (isNonNegInt(answer.insertLine)) out.insertLine = answer.insertLine;
  return out;
}

/** An LSP TextEdit `{range: {start, end}, newText}` that inserts (start == end), else undefined. */
export function parseInsertEdit(x: unknown): InsertEdit | undefined {
  if (!isObj(x) || typeof x.newText !== 'string' || !isObj(x.range)) {
    return undefined;
  }
  const { start, end } = x.range;
  if (!isObj(start) || !isObj(end) || !isNonNegInt(start.line) || !isNonNegInt(start.character)) {
    return undefined;
  }
  if (end.line !== start.line || end.character !== start.character) {
    return undefined;
  }
  return { line: start.line, character: start.character, newText: x.newText };
}

export function parsePredict(answer: unknown): PredictAnswer {
  if (!isObj(answer)) {
    throw new ProtocolError('predictOutput: the server answer is not an object');
  }
  const out: PredictAnswer = {
    prediction: str(answer, 'prediction', 'predictOutput'),
    verified: answer.verified === true,
    actual: optString(answer, 'actual') ?? '',
  };
  const reasoning = parseReasoning(answer.reasoning);
  if (reasoning !== undefined) out.reasoning = reasoning;
  for (const key of ['function', 'args'] as const) {
    const v = optString(answer, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function parseDebug(answer: unknown): DebugAnswer {
  if (!isObj(answer)) {
    throw new ProtocolError('debugRun: the server answer is not an object');
  }
  const raw = answer.args ?? [];
  if (!Array.isArray(raw) || !raw.every((a): a is string => typeof a === 'string')) {
    throw new ProtocolError('debugRun: "args" must be a list of strings');
  }
  return {
    program: str(answer, 'program', 'debugRun'),
    args: raw,
    cwd: optString(answer, 'cwd') ?? '',
  };
}

export function parseStatus(params: unknown): StatusParams | undefined {
  if (!isObj(params)) {
    return undefined;
  }
  const s = params.state;
  if (s !== 'ready' && s !== 'running' && s !== 'modelLoading' && s !== 'error') {
    return undefined;
  }
  const message = optString(params, 'message');
  return message === undefined ? { state: s } : { state: s, message };
}

/** Keeps only the known fields, with the right types, of an invocation argument. */
export function sanitizeArgs(x: unknown): CommandArgs | undefined {
  if (!isObj(x) || typeof x.uri !== 'string' || x.uri === '') {
    return undefined;
  }
  const out: CommandArgs = { uri: x.uri };
  for (const key of ['function', 'args', 'target', 'runId'] as const) {
    const v = optString(x, key);
    if (v !== undefined) out[key] = v;
  }
  if (isNonNegInt(x.line)) out.line = x.line;
  return out;
}
