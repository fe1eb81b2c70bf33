/**
 * HTML for the result webview. Pure: no vscode import.
 *
 * Everything that comes from the server is escaped; the page loads no
 * resource and runs only its own script, allowed by a per-render nonce in
 * a strict Content-Security-Policy.
 */
import type { ExplainAnswer, PredictAnswer, ReasoningSentence, Step } from './protocol';

export interface RenderOptions {
  nonce: string;
  /** `webview.cspSource`; unused as nothing is loaded, kept for future local resources. */
  cspSource?: string;
  /** The function call shown in headings, e.g. `f([1, 2])`. */
  call?: string;
  /** Whether to offer "Debug this run". */
  canDebug?: boolean;
}

/** Steps shown at most; the rest is summarised. */
export const MAX_STEPS = 5000;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A random nonce (hex). */
export function makeNonce(random: (n: number) => Uint8Array): string {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "img-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Marks a protected piece (code span, escaped character) while emphasis is matched. */
const HOLD_OPEN = '\uE000';
const HOLD_CLOSE = '\uE001';
const HOLD = /\uE000(\d+)\uE001/g;

/** ASCII punctuation a backslash may escape (CommonMark). */
const ESCAPABLE = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;

/**
 * Inline Markdown on already-escaped text: code spans (any number of
 * backticks, as the server writes them around values that hold backticks),
 * **bold**, *italic*, backslash escapes; links keep their text only.
 * Emphasis may enclose code spans (`**Run of `f(x)`**`); nothing inside a
 * code span is interpreted. Only `<code>`, `<strong>` and `<em>` are produced,
 * so the result is as safe as its escaped input.
 */
export function inline(escaped: string): string {
  const held: string[] = [];
  const hold = (html: string): string => `${HOLD_OPEN}${held.push(html) - 1}${HOLD_CLOSE}`;
  const text = escaped.replace(/[\uE000\uE001]/g, '\uFFFD');
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\\' && ESCAPABLE.test(text[i + 1] ?? '')) {
      out += hold(text[i + 1] ?? '');
      i += 2;
      continue;
    }
    if (c !== '`') {
      out += c;
      i++;
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') {
      n++;
    }
    // The span closes at the next run of exactly n backticks.
    const close = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, 'g');
    close.lastIndex = i + n;
    const end = close.exec(text);
    if (end === null) {
      out += text.slice(i, i + n);
      i += n;
      continue;
    }
    let code = text.slice(i + n, end.index).replace(/\n/g, ' ');
    if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim() !== '') {
      code = code.slice(1, -1);
    }
    out += hold(`<code>${code}</code>`);
    i = end.index + n;
  }
  return out
    .replace(/\[([^\]]+)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
    .replace(/\*\*(?=[^\s*])((?:[^*]|\*(?!\*))*?[^\s*])\*\*/g, '<strong>$1</strong>')
    .replace(/__(?=[^\s_])((?:[^_]|_(?!_))*?[^\s_])__/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*(?!\w)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s](?:[^_]*[^_\s])?)_(?!\w)/g, '$1<em>$2</em>')
    .replace(HOLD, (_, k: string) => held[Number(k)] ?? '');
}

/**
 * A safe subset of Markdown: headings, paragraphs, lists, fenced code,
 * block quotes, inline code, bold and italic. Raw HTML is shown as text.
 */
export function renderMarkdown(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  let para: string[] = [];
  let list: 'ul' | 'ol' | undefined;
  const flushPara = (): void => {
    if (para.length > 0) {
      out.push(`<p>${inline(escapeHtml(para.join(' ')))}</p>`);
      para = [];
    }
  };
  const closeList = (): void => {
    if (list !== undefined) {
      out.push(`</${list}>`);
      list = undefined;
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence !== null) {
      flushPara();
      closeList();
      const code: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```')) {
        code.push(lines[i] ?? '');
        i++;
      }
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading !== null) {
      flushPara();
      closeList();
      // The page title is h1; markdown headings start at h2.
      const level = Math.min(6, (heading[1] ?? '#').length + 1);
      out.push(`<h${level}>${inline(escapeHtml((heading[2] ?? '').replace(/\s#+\s*$/, '')))}</h${level}>`);
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item !== null) {
      flushPara();
      const kind = /\d/.test(item[1] ?? '') ? 'ol' : 'ul';
      if (list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      out.push(`<li>${inline(escapeHtml(item[2] ?? ''))}</li>`);
      continue;
    }
    const quote = /^\s*>\s?(.*)$/.exec(line);
    if (quote !== null) {
      flushPara();
      closeList();
      out.push(`<blockquote>${inline(escapeHtml(quote[1] ?? ''))}</blockquote>`);
      continue;
    }
    if (line.trim() === '') {
      flushPara();
      closeList();
      continue;
    }
    if (list !== undefined && /^\s+\S/.test(line)) {
      // Continuation of a list item: append to it.
      const last = out.pop() ?? '<li></li>';
      out.push(`${last.slice(0, -'</li>'.length)} ${inline(escapeHtml(line.trim()))}</li>`);
      continue;
    }
    closeList();
    para.push(line.trim());
  }
  flushPara();
  closeList();
  return out.join('\n');
}

export interface StepNode {
  step: Step;
  children: StepNode[];
  /** True for a step whose text starts with "Loop": its deeper followers nest under it. */
  loop: boolean;
}

/** Nests the steps after each "Loop…" step (those of greater depth) under it. */
export function buildStepTree(steps: readonly Step[]): StepNode[] {
  const root: StepNode[] = [];
  const stack: StepNode[] = [];
  for (const step of steps) {
    while (stack.length > 0 && step.depth <= (stack[stack.length - 1]?.step.depth ?? -1)) {
      stack.pop();
    }
    const node: StepNode = { step, children: [], loop: /^Loop\b/i.test(step.text.trimStart()) };
    const parent = stack[stack.length - 1];
    (parent === undefined ? root : parent.children).push(node);
    if (node.loop) {
      stack.push(node);
    }
  }
  return root;
}

function mark(verified: boolean | null): string {
  if (verified === true) {
    return '<span class="mark ok" title="verified by running the code">✓</span>';
  }
  if (verified === false) {
    return '<span class="mark bad" title="contradicted by the run">✗</span>';
  }
  return '<span class="mark unk" title="not checked">·</span>';
}

function lineBadge(line: number): string {
  if (line < 0) {
    return '<span class="ln"></span>';
  }
  return `<button class="ln" data-line="${line}" title="Go to line ${line + 1}">${line + 1}</button>`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countNodes(nodes: readonly StepNode[]): number {
  return nodes.reduce((n, c) => n + 1 + countNodes(c.children), 0);
}

function renderNodes(nodes: readonly StepNode[]): string {
  const items = nodes.map((node) => {
    const s = node.step;
    const depth = Math.min(s.depth, 8);
    const row = `${mark(s.verified)}${lineBadge(s.line)}<span class="text">${inline(escapeHtml(s.text))}</span>`;
    if (node.loop) {
      const open = countNodes(node.children) <= 50 ? ' open' : '';
      return (
        `<li class="step loop depth-${depth}"><details${open}>` +
        `<summary>${row}<span class="count">${plural(countNodes(node.children), 'step')}</span></summary>` +
        `<ol class="steps">${renderNodes(node.children)}</ol></details></li>`
      );
    }
    // The whole row of a plain step reveals its line; a loop's summary toggles the loop instead.
    const reveal = s.line >= 0 ? ` data-line="${s.line}"` : '';
    return `<li class="step depth-${depth}"${reveal}>${row}</li>`;
  });
  return items.join('');
}

export function renderSteps(steps: readonly Step[]): string {
  if (steps.length === 0) {
    return '';
  }
  const shown = steps.slice(0, MAX_STEPS);
  const verified = steps.filter((s) => s.verified === true).length;
  const wrong = steps.filter((s) => s.verified === false).length;
  const more =
    steps.length > shown.length ? `<p class="note">… ${steps.length - shown.length} more steps not shown.</p>` : '';
  const anyLoop = shown.some((s) => /^Loop\b/i.test(s.text.trimStart()));
  const tools = anyLoop
    ? '<span class="tools"><button data-action="expand">Expand all</button><button data-action="collapse">Collapse all</button></span>'
    : '';
  return (
    `<section class="steps-section"><h2>Steps <span class="summary">${plural(steps.length, 'step')}, ` +
    `${verified} ✓, ${wrong} ✗</span>${tools}</h2>` +
    `<ol class="steps">${renderNodes(buildStepTree(shown))}</ol>${more}</section>`
  );
}

export function renderReasoning(reasoning: readonly ReasoningSentence[] | undefined): string {
  if (reasoning === undefined || reasoning.length === 0) {
    return '';
  }
  const marks: Record<ReasoningSentence['verdict'], string> = {
    ok: '<span class="mark ok" title="checked against the run">✓</span>',
    wrong: '<span class="mark bad" title="contradicted by the run">✗</span>',
    unchecked: '<span class="mark unk" title="could not be checked">?</span>',
  };
  const items = reasoning.map((r) => {
    const actual =
      r.verdict === 'wrong' && r.actual !== undefined && r.actual !== ''
        ? ` <span class="actual">actually: <code>${escapeHtml(r.actual)}</code></span>`
        : '';
    return `<li class="${r.verdict}">${marks[r.verdict]}<span class="text">${escapeHtml(r.text)}</span>${actual}</li>`;
  });
  const ok = reasoning.filter((r) => r.verdict === 'ok').length;
  const wrong = reasoning.filter((r) => r.verdict === 'wrong').length;
  return (
    `<section class="reasoning"><h2>Model reasoning <span class="summary">${ok} ✓, ${wrong} ✗</span></h2>` +
    `<p class="note">Each sentence of the model is checked against the actual run.</p>` +
    `<ul class="reasoning-list">${items.join('\n')}</ul></section>`
  );
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em 2em; line-height: 1.5; }
h1 { font-size: 1.4em; margin-bottom: .2em; }
h2 { font-size: 1.1em; margin-top: 1.4em; border-bottom: 1px solid var(--vscode-panel-border, #8884); padding-bottom: .2em; }
code, pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
pre { background: var(--vscode-textCodeBlock-background); padding: .6em; overflow-x: auto; }
blockquote { border-left: 3px solid var(--vscode-textBlockQuote-border); margin: 0; padding-left: .8em; color: var(--vscode-descriptionForeground); }
.badge { display: inline-block; padding: .1em .6em; border-radius: 3px; font-weight: 600; }
.badge.ok { color: var(--vscode-testing-iconPassed, #3c9); border: 1px solid currentColor; }
.badge.bad { color: var(--vscode-testing-iconFailed, #e55); border: 1px solid currentColor; }
.mark { display: inline-block; width: 1.3em; text-align: center; font-weight: bold; }
.mark.ok { color: var(--vscode-testing-iconPassed, #3c9); }
.mark.bad { color: var(--vscode-testing-iconFailed, #e55); }
.mark.unk { color: var(--vscode-descriptionForeground); }
ol.steps { list-style: none; padding-left: 0; margin: 0; }
ol.steps ol.steps { padding-left: 1.4em; border-left: 1px dotted var(--vscode-panel-border, #8886); margin-left: .6em; }
li.step { padding: .05em 0; font-family: var(--vscode-editor-font-family); }
li.step .text { white-space: pre-wrap; }
li.step[data-line] { cursor: pointer; }
li.step[data-line]:hover, li.step > details > summary:hover { background: var(--vscode-list-hoverBackground); }
li.step > summary { cursor: pointer; }
button { font: inherit; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: none; border-radius: 2px; padding: .1em .6em; cursor: pointer; }
button:hover { background: var(--vscode-button-secondaryHoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
button.ln { min-width: 3em; margin-right: .6em; padding: 0 .3em; text-align: right; color: var(--vscode-editorLineNumber-foreground); background: transparent; }
button.ln:hover { color: var(--vscode-textLink-foreground); text-decoration: underline; }
span.ln { display: inline-block; min-width: 3.6em; margin-right: .6em; }
.count, .summary, .note { color: var(--vscode-descriptionForeground); font-size: .9em; font-weight: normal; margin-left: .8em; }
.tools { margin-left: 1em; }
.tools button { font-size: .85em; margin-left: .3em; }
.actions { margin: .8em 0; }
ul.reasoning-list { list-style: none; padding-left: 0; }
ul.reasoning-list li { margin: .25em 0; }
.actual { color: var(--vscode-testing-iconFailed, #e55); margin-left: .5em; }
table.compare td { padding: .2em 1em .2em 0; vertical-align: top; }
`;

const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  document.addEventListener('click', function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    const lineEl = target.closest('[data-line]');
    if (lineEl) {
      event.preventDefault();
      event.stopPropagation();
      const line = Number(lineEl.getAttribute('data-line'));
      if (Number.isInteger(line) && line >= 0) { vscode.postMessage({ type: 'reveal', line: line }); }
      return;
    }
    const actionEl = target.closest('[data-action]');
    if (!actionEl) { return; }
    const action = actionEl.getAttribute('data-action');
    if (action === 'expand' || action === 'collapse') {
      document.querySelectorAll('details').forEach(function (d) { d.open = action === 'expand'; });
    } else if (action === 'debug') {
      vscode.postMessage({ type: 'debug' });
    }
  });
})();
`;

function page(title: string, body: string, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

function checkNonce(nonce: string): void {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(nonce)) {
    throw new Error('invalid nonce');
  }
}

export function renderExplainHtml(answer: ExplainAnswer, options: RenderOptions): string {
  checkNonce(options.nonce);
  const badge = answer.verified
    ? '<span class="badge ok">✓ Verified by running the code</span>'
    : '<span class="badge bad">✗ Not fully verified</span>';
  const call =
    options.call !== undefined && options.call !== answer.title ? `<p><code>${escapeHtml(options.call)}</code></p>` : '';
  const actions = options.canDebug === true ? '<p class="actions"><button data-action="debug">Debug this run</button></p>' : '';
  const body = [
    `<header><h1>${escapeHtml(answer.title)}</h1>${call}${badge}</header>`,
    actions,
    answer.markdown.trim() !== '' ? `<section class="narrative">${renderMarkdown(answer.markdown)}</section>` : '',
    renderSteps(answer.steps),
    renderReasoning(answer.reasoning),
  ]
    .filter((part) => part !== '')
    .join('\n');
  return page(`tracecot: ${answer.title}`, body, options.nonce);
}

export function renderPredictionHtml(answer: PredictAnswer, options: RenderOptions): string {
  checkNonce(options.nonce);
  const call = options.call ?? 'the call';
  const badge = answer.verified
    ? '<span class="badge ok">✓ The prediction matches the actual run</span>'
    : '<span class="badge bad">✗ The prediction differs from the actual run</span>';
  const body = [
    `<header><h1>Prediction for <code>${escapeHtml(call)}</code></h1>${badge}</header>`,
    '<table class="compare">',
    `<tr><td>Model predicted</td><td><code>${escapeHtml(answer.prediction)}</code></td></tr>`,
    `<tr><td>Actual run gives</td><td><code>${escapeHtml(answer.actual)}</code></td></tr>`,
    '</table>',
    renderReasoning(answer.reasoning),
  ]
    .filter((part) => part !== '')
    .join('\n');
  return page(`tracecot: prediction for ${call}`, body, options.nonce);
}

/** Messages the webview may send; anything else is dropped. */
export type WebviewMessage = { type: 'reveal'; line: number } | { type: 'debug' };

export function parseWebviewMessage(message: unknown): WebviewMessage | undefined {
  if (typeof message !== 'object' || message === null) {
    return undefined;
  }
  const m = message as Record<string, unknown>;
  if (m.type === 'reveal' && typeof m.line === 'number' && Number.isInteger(m.line) && m.line >= 0) {
    return { type: 'reveal', line: m.line };
  }
  if (m.type === 'debug') {
    return { type: 'debug' };
  }
  return undefined;
}
