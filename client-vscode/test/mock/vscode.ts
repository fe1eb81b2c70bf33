/**
 * A small, scriptable stand-in for the `vscode` module. Tests queue the
 * user's answers (input boxes, quick picks, message buttons) and read what
 * the extension did from `recorded`.
 */

/* ---------- basic types ---------- */

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static parse(value: string): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/)?(.*)$/.exec(value);
    if (m === null) throw new Error(`bad uri ${value}`);
    const rest = m[2] ?? '';
    return new Uri(m[1] ?? 'file', m[1] === 'file' ? (rest.startsWith('/') ? rest : `/${rest}`) : rest);
  }
  static file(fsPath: string): Uri {
    return new Uri('file', fsPath);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? `file://${this.path}` : `${this.scheme}:${this.path}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    if (typeof a === 'number' && typeof b === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c ?? a, d ?? b);
    } else {
      this.start = a as Position;
      this.end = b as Position;
    }
  }
}

export class Selection extends Range {
  constructor(anchor: Position, active: Position) {
    super(anchor, active);
  }
  get active(): Position {
    return this.end;
  }
}

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export class CancellationError extends Error {}
/** Base classes vscode-languageclient extends at load time; the mock never builds them. */
export class CallHierarchyItem {}
export class CodeLens {}
export class CompletionItem {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class TypeHierarchyItem {}
export class CodeAction {}
export class Diagnostic {}
export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Refactor = new CodeActionKind('refactor');
  static readonly RefactorExtract = new CodeActionKind('refactor.extract');
  static readonly RefactorInline = new CodeActionKind('refactor.inline');
  static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
  static readonly Source = new CodeActionKind('source');
  static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value === '' ? part : `${this.value}.${part}`);
  }
}
export class TabInputText {}
export class TabInputTextDiff {}
export class TabInputCustom {}
export const version = '1.85.0';

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class WorkspaceEdit {
  readonly inserts: { uri: Uri; position: Position; text: string }[] = [];
  insert(uri: Uri, position: Position, text: string): void {
    this.inserts.push({ uri, position, text });
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
  Two = 2,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}
export enum TextEditorRevealType {
  Default = 0,
  InCenter = 1,
  InCenterIfOutsideViewport = 2,
  AtTop = 3,
}

/* ---------- documents and editors ---------- */

export class MockDocument {
  constructor(
    readonly uri: Uri,
    public text: string,
    readonly languageId = 'python',
  ) {}
  getText(): string {
    return this.text;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  lineAt(line: number): { text: string } {
    return { text: this.text.split('\n')[line] ?? '' };
  }
  /** Applies an insert the way an editor would. */
  insert(position: Position, text: string): void {
    const lines = this.text.split('\n');
    const before = lines.slice(0, position.line);
    const current = lines[position.line] ?? '';
    const joined = current.slice(0, position.character) + text + current.slice(position.character);
    this.text = [...before, joined, ...lines.slice(position.line + 1)].join('\n');
  }
}

export class MockEditor {
  selection: Selection;
  readonly viewColumn = ViewColumn.One;
  revealed: Range | undefined;
  constructor(
    readonly document: MockDocument,
    line = 0,
  ) {
    this.selection = new Selection(new Position(line, 0), new Position(line, 0));
  }
  revealRange(range: Range): void {
    this.revealed = range;
  }
}

/* ---------- scripted user and recorded effects ---------- */

export interface QuickPickItemLike {
  label: string;
  description?: string;
  [key: string]: unknown;
}

export const script = {
  inputBoxes: [] as (string | undefined)[],
  /** Each entry picks from the offered items (or returns undefined for Escape). */
  quickPicks: [] as ((items: QuickPickItemLike[]) => QuickPickItemLike | undefined)[],
  /** Button answers to show*Message calls, in order; undefined = dismissed. */
  messageAnswers: [] as (string | undefined)[],
  startDebugging: true,
  /** When set, withProgress cancels its token right after starting the task. */
  cancelProgress: false,
};

export interface RecordedInputBox {
  options: { validateInput?: (v: string) => unknown; [key: string]: unknown };
}

export const recorded = {
  messages: [] as { kind: 'info' | 'warning' | 'error'; text: string; items: string[] }[],
  inputBoxes: [] as RecordedInputBox[],
  quickPicks: [] as { items: QuickPickItemLike[]; options: unknown }[],
  progress: [] as { title: string }[],
  edits: [] as WorkspaceEdit[],
  clipboard: [] as string[],
  debugSessions: [] as { folder: unknown; config: Record<string, unknown> }[],
  executed: [] as { command: string; args: unknown[] }[],
  configUpdates: [] as { key: string; value: unknown; target: unknown }[],
  statusMessages: [] as string[],
  panels: [] as MockWebviewPanel[],
  statusItems: [] as ReturnType<typeof window.createStatusBarItem>[],
};

export const state = {
  trusted: true,
  config: new Map<string, unknown>(),
  configWorkspace: new Map<string, unknown>(),
  documents: new Map<string, MockDocument>(),
  extensions: new Map<string, { id: string; isActive: boolean; exports: unknown; activate(): Promise<unknown> }>(),
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  commands: new Map<string, (...args: unknown[]) => unknown>(),
};

const configEmitter = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
const trustEmitter = new EventEmitter<void>();

export function reset(): void {
  script.inputBoxes = [];
  script.quickPicks = [];
  script.messageAnswers = [];
  script.startDebugging = true;
  script.cancelProgress = false;
  for (const list of Object.values(recorded)) (list as unknown[]).length = 0;
  state.trusted = true;
  state.config.clear();
  state.configWorkspace.clear();
  state.documents.clear();
  state.extensions.clear();
  state.workspaceFolders = undefined;
  state.commands.clear();
  window.activeTextEditor = undefined;
  configEmitter.dispose();
  trustEmitter.dispose();
}

export function openDocument(uri: string, text: string, languageId = 'python', cursorLine?: number): MockDocument {
  const doc = new MockDocument(Uri.parse(uri), text, languageId);
  state.documents.set(doc.uri.toString(), doc);
  if (cursorLine !== undefined) {
    window.activeTextEditor = new MockEditor(doc, cursorLine);
  }
  return doc;
}

export function fireConfigurationChange(...sections: string[]): void {
  configEmitter.fire({
    affectsConfiguration: (s: string) => sections.some((x) => x === s || x.startsWith(`${s}.`)),
  });
}

export function fireTrustGranted(): void {
  state.trusted = true;
  trustEmitter.fire();
}

/* ---------- namespaces ---------- */

/** An event nobody fires. */
function noEvent(): Disposable {
  return new Disposable();
}

function message(kind: 'info' | 'warning' | 'error') {
  return (text: string, ...rest: unknown[]): Promise<string | undefined> => {
    const items = rest.filter((r): r is string => typeof r === 'string');
    recorded.messages.push({ kind, text, items });
    return Promise.resolve(script.messageAnswers.shift());
  };
}

export class MockWebviewPanel {
  title: string;
  disposed = false;
  private readonly messageEmitter = new EventEmitter<unknown>();
  private readonly disposeEmitter = new EventEmitter<void>();
  readonly webview = {
    html: '',
    cspSource: 'vscode-resource:',
    onDidReceiveMessage: this.messageEmitter.event,
  };
  readonly onDidDispose = this.disposeEmitter.event;
  constructor(
    title: string,
    readonly options: unknown,
  ) {
    this.title = title;
  }
  reveal(): void {}
  /** Simulates the page posting a message. */
  post(message: unknown): void {
    this.messageEmitter.fire(message);
  }
  dispose(): void {
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}

export const window = {
  activeTextEditor: undefined as MockEditor | undefined,
  visibleTextEditors: [] as MockEditor[],
  tabGroups: { all: [], onDidChangeTabs: noEvent, onDidChangeTabGroups: noEvent },
  onDidChangeActiveTextEditor: noEvent,
  onDidChangeVisibleTextEditors: noEvent,
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  showInputBox(options: RecordedInputBox['options']): Promise<string | undefined> {
    recorded.inputBoxes.push({ options });
    return Promise.resolve(script.inputBoxes.shift());
  },
  showQuickPick(items: QuickPickItemLike[], options: unknown): Promise<QuickPickItemLike | undefined> {
    recorded.quickPicks.push({ items, options });
    const pick = script.quickPicks.shift();
    return Promise.resolve(pick === undefined ? undefined : pick(items));
  },
  async withProgress<R>(
    options: { title: string },
    task: (progress: { report(): void }, token: CancellationTokenSource['token']) => Promise<R>,
  ): Promise<R> {
    recorded.progress.push({ title: options.title });
    const source = new CancellationTokenSource();
    const result = task({ report: () => undefined }, source.token);
    if (script.cancelProgress) source.cancel();
    return result;
  },
  setStatusBarMessage(text: string): Disposable {
    recorded.statusMessages.push(text);
    return new Disposable();
  },
  createOutputChannel(name: string) {
    const lines: string[] = [];
    return { name, lines, appendLine: (l: string) => lines.push(l), append: (l: string) => lines.push(l), show() {}, dispose() {} };
  },
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number) {
    const item = {
      id,
      alignment,
      priority,
      name: '',
      text: '',
      tooltip: '' as unknown,
      command: undefined as unknown,
      backgroundColor: undefined as ThemeColor | undefined,
      visible: false,
      show() {
        this.visible = true;
      },
      hide() {
        this.visible = false;
      },
      dispose() {},
    };
    recorded.statusItems.push(item);
    return item;
  },
  createWebviewPanel(_viewType: string, title: string, _column: unknown, options: unknown): MockWebviewPanel {
    const panel = new MockWebviewPanel(title, options);
    recorded.panels.push(panel);
    return panel;
  },
  showTextDocument(doc: MockDocument, options?: { selection?: Range }): Promise<MockEditor> {
    const editor = new MockEditor(doc, options?.selection?.start.line ?? 0);
    window.activeTextEditor = editor;
    return Promise.resolve(editor);
  },
};

/** Nested object of all values under `prefix.` (how `get('tracecot')` sees settings), or undefined. */
function nested(prefix: string): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const map of [state.config, state.configWorkspace]) {
    for (const [k, v] of map) {
      if (!k.startsWith(`${prefix}.`)) continue;
      out ??= {};
      const parts = k.slice(prefix.length + 1).split('.');
      let node = out;
      for (const part of parts.slice(0, -1)) {
        node = (node[part] ??= {}) as Record<string, unknown>;
      }
      node[parts[parts.length - 1] ?? ''] = v;
    }
  }
  return out;
}

function configuration(section?: string) {
  const key = (k: string): string => (section === undefined ? k : `${section}.${k}`);
  return {
    get<T>(k: string, fallback?: T): T | undefined {
      const full = key(k);
      if (state.configWorkspace.has(full)) return state.configWorkspace.get(full) as T;
      if (state.config.has(full)) return state.config.get(full) as T;
      return (nested(full) as T | undefined) ?? fallback;
    },
    has(k: string): boolean {
      return this.get(k) !== undefined;
    },
    inspect<T>(k: string): { workspaceValue?: T; globalValue?: T; workspaceFolderValue?: T } {
      const full = key(k);
      return {
        ...(state.configWorkspace.has(full) ? { workspaceValue: state.configWorkspace.get(full) as T } : {}),
        ...(state.config.has(full) ? { globalValue: state.config.get(full) as T } : {}),
      };
    },
    update(k: string, value: unknown, target: unknown): Promise<void> {
      recorded.configUpdates.push({ key: key(k), value, target });
      (target === ConfigurationTarget.Global ? state.config : state.configWorkspace).set(key(k), value);
      return Promise.resolve();
    },
  };
}

export const workspace = {
  get isTrusted(): boolean {
    return state.trusted;
  },
  get workspaceFolders() {
    return state.workspaceFolders;
  },
  getWorkspaceFolder(uri: Uri) {
    return state.workspaceFolders?.find((f) => uri.path.startsWith(f.uri.path));
  },
  getConfiguration: configuration,
  onDidChangeConfiguration: configEmitter.event,
  onDidGrantWorkspaceTrust: trustEmitter.event,
  textDocuments: [] as MockDocument[],
  onDidOpenTextDocument: noEvent,
  onDidCloseTextDocument: noEvent,
  onDidChangeTextDocument: noEvent,
  onDidSaveTextDocument: noEvent,
  onWillSaveTextDocument: noEvent,
  onDidChangeWorkspaceFolders: noEvent,
  createFileSystemWatcher() {
    return { onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose() {} };
  },
  openTextDocument(uri: Uri): Promise<MockDocument> {
    const doc = state.documents.get(uri.toString());
    return doc ? Promise.resolve(doc) : Promise.reject(new Error(`no document ${uri.toString()}`));
  },
  applyEdit(edit: WorkspaceEdit): Promise<boolean> {
    recorded.edits.push(edit);
    for (const ins of edit.inserts) {
      state.documents.get(ins.uri.toString())?.insert(ins.position, ins.text);
    }
    return Promise.resolve(true);
  },
};

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown): Disposable {
    state.commands.set(id, fn);
    return new Disposable(() => state.commands.delete(id));
  },
  executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    recorded.executed.push({ command, args });
    const fn = state.commands.get(command);
    return Promise.resolve(fn ? fn(...args) : undefined);
  },
};

export const extensions = {
  getExtension(id: string) {
    return state.extensions.get(id);
  },
};

/** Language feature registrations: accepted and dropped (the mock never calls providers). */
const languageFunctions: Record<string, unknown> = {
  match(): number {
    return 10;
  },
  createDiagnosticCollection() {
    return { set() {}, delete() {}, clear() {}, dispose() {} };
  },
};

export const languages = new Proxy(languageFunctions, {
  get(target, name): unknown {
    if (typeof name !== 'string') return undefined;
    if (name in target) return target[name];
    if (name.startsWith('register')) return () => new Disposable();
    return undefined;
  },
});

export const env = {
  language: 'en',
  appName: 'mock',
  openExternal: () => Promise.resolve(true),
  clipboard: {
    writeText(text: string): Promise<void> {
      recorded.clipboard.push(text);
      return Promise.resolve();
    },
  },
};

export const debug = {
  startDebugging(folder: unknown, config: Record<string, unknown>): Promise<boolean> {
    recorded.debugSessions.push({ folder, config });
    return Promise.resolve(script.startDebugging);
  },
};
