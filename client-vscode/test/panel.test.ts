import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildStepTree,
  contentSecurityPolicy,
  escapeHtml,
  inline,
  makeNonce,
  MAX_STEPS,
  parseWebviewMessage,
  renderExplainHtml,
  renderMarkdown,
  renderPredictionHtml,
} from '../src/panel';
import type { ExplainAnswer, Step } from '../src/protocol';

const NONCE = 'abcdef0123456789abcdef0123456789';

function step(index: number, text: string, depth = 0, verified: boolean | null = true, line = index): Step {
  return { index, line, text, verified, depth };
}

const answer: ExplainAnswer = {
  title: 'histogram',
  markdown: '# Summary\nIt counts **each** value with `dict.get`.\n\n- one\n- two',
  verified: true,
  steps: [
    step(0, 'counts = {}'),
    step(1, 'Loop over xs (3 iterations)', 0),
    step(2, 'x = 1', 1),
    step(3, 'counts[1] = 1', 1, false),
    step(4, 'return counts', 0, null),
  ],
  reasoning: [
    { text: 'It returns a dict.', verdict: 'ok' },
    { text: 'The dict has 4 keys.', verdict: 'wrong', actual: '3 keys' },
    { text: 'It is fast.', verdict: 'unchecked' },
  ],
};

/** Every <script> tag in the page. */
function scripts(html: string): string[] {
  return html.match(/<script\b[^>]*>/gi) ?? [];
}

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderExplainHtml', () => {
  const html = renderExplainHtml(answer, { nonce: NONCE, call: 'histogram([1, 1, 3])', canDebug: true });

  it('has a strict CSP allowing only the nonce', () => {
    assert.ok(html.includes(`content="${contentSecurityPolicy(NONCE)}"`));
    assert.match(contentSecurityPolicy(NONCE), /^default-src 'none'; /);
    assert.ok(!/https?:/.test(html), 'no remote resources');
    for (const tag of scripts(html)) assert.ok(tag.includes(`nonce="${NONCE}"`), tag);
    assert.equal(scripts(html).length, 1);
    assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handlers');
    assert.ok(!/\sstyle="/i.test(html), 'no inline style attributes');
  });

  it('shows title, call, verdict, narrative, steps and reasoning', () => {
    assert.match(html, /<h1>histogram<\/h1>/);
    assert.match(html, /<code>histogram\(\[1, 1, 3\]\)<\/code>/);
    assert.match(html, /✓ Verified by running the code/);
    assert.match(html, /<h2>Summary<\/h2>/);
    assert.match(html, /<strong>each<\/strong>/);
    assert.match(html, /<code>dict.get<\/code>/);
    assert.match(html, /<li>one<\/li>/);
    assert.match(html, /5 steps, 3 ✓, 1 ✗/);
    assert.match(html, /data-line="3" title="Go to line 4"/);
    assert.match(html, /<li class="step depth-0" data-line="0">/, 'the whole row of a step is clickable');
    assert.match(html, /actually: <code>3 keys<\/code>/);
    assert.match(html, /data-action="debug"/);
  });

  it('marks unverified answers and steps', () => {
    const bad = renderExplainHtml({ ...answer, verified: false }, { nonce: NONCE });
    assert.match(bad, /✗ Not fully verified/);
    assert.ok(!bad.includes('data-action="debug"'));
    assert.match(bad, /class="mark bad"[^>]*>✗</);
    assert.match(bad, /class="mark unk"[^>]*>·</);
  });

  it('escapes a <script> in step text, title, markdown and reasoning', () => {
    const evil = '<script>alert(1)</script>';
    const page = renderExplainHtml(
      {
        title: evil,
        markdown: `${evil}\n\n\`${evil}\`\n\n**${evil}**`,
        verified: false,
        steps: [step(0, evil), step(1, `Loop ${evil}`)],
        reasoning: [{ text: evil, verdict: 'wrong', actual: evil }],
      },
      { nonce: NONCE, call: evil },
    );
    assert.equal(scripts(page).length, 1, 'only the nonce script');
    assert.ok(!page.includes('<script>alert'));
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('escapes attribute breakouts in step text', () => {
    const page = renderExplainHtml(
      { title: 't', markdown: '', verified: true, steps: [step(0, '" onclick="x')] },
      { nonce: NONCE },
    );
    assert.ok(!page.includes('" onclick="x'));
    assert.ok(page.includes('&quot; onclick=&quot;x'));
  });

  it('refuses a nonce that could break out of the attribute', () => {
    assert.throws(() => renderExplainHtml(answer, { nonce: '"><script>' }));
  });

  it('makes collapsible loop sections', () => {
    assert.match(html, /<details open><summary>.*Loop over xs \(3 iterations\).*2 steps<\/span><\/summary>/);
    assert.match(html, /data-action="expand"/);
  });

  it('caps the number of steps shown', () => {
    const many = Array.from({ length: MAX_STEPS + 7 }, (_, i) => step(i, `s${i}`));
    const page = renderExplainHtml({ title: 't', markdown: '', verified: true, steps: many }, { nonce: NONCE });
    assert.match(page, /… 7 more steps not shown/);
  });
});

describe('buildStepTree', () => {
  it('nests deeper steps under Loop steps, also nested loops', () => {
    const tree = buildStepTree([
      step(0, 'a'),
      step(1, 'Loop outer', 0),
      step(2, 'Loop inner', 1),
      step(3, 'x', 2),
      step(4, 'y', 1),
      step(5, 'done', 0),
    ]);
    assert.deepEqual(
      tree.map((n) => [n.step.text, n.children.map((c) => [c.step.text, c.children.map((g) => g.step.text)])]),
      [
        ['a', []],
        ['Loop outer', [['Loop inner', ['x']], ['y', []]]],
        ['done', []],
      ],
    );
  });

  it('does not nest after non-loop steps', () => {
    const tree = buildStepTree([step(0, 'if x', 0), step(1, 'y', 1)]);
    assert.equal(tree.length, 2);
  });
});

describe('renderMarkdown', () => {
  it('renders code fences escaped and drops link targets', () => {
    const out = renderMarkdown('```python\nif a < b:\n    pass\n```\nsee [docs](https://example.com)');
    assert.match(out, /<pre><code>if a &lt; b:\n {4}pass<\/code><\/pre>/);
    assert.match(out, /<p>see docs<\/p>/);
    assert.ok(!out.includes('example.com'));
  });

  it('renders ordered lists, quotes and italics', () => {
    const out = renderMarkdown('1. first\n2. *second*\n\n> note');
    assert.match(out, /<ol>\n<li>first<\/li>\n<li><em>second<\/em><\/li>\n<\/ol>/);
    assert.match(out, /<blockquote>note<\/blockquote>/);
  });
});

/** The text of the page with tags removed, as a reader sees it (entities left as they are). */
function visible(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '')
    .replace(/<title>[\s\S]*?<\/title>/i, '')
    .replace(/<[^>]*>/g, '');
}

describe('Markdown from the server', () => {
  // What the server sends for "Explain this run": the narrative's header is bold around a
  // code span, steps carry code spans, bold numbers and italic line notes.
  const explained: ExplainAnswer = {
    title: 'histogram([1, 1, 3]) → [(1, 2), (3, 1)]',
    markdown:
      '**Run of `histogram([1, 1, 3])`** — ✓ verified: 3/3 claims checked against a fresh run\n\n' +
      '- **1.** `histogram` is called with `values = [1, 1, 3]`. ✓\n' +
      '  - **2.** Line 10: `counts = {}` sets `counts` to `{}`. ✓\n\n' +
      'So `histogram([1, 1, 3])` returns `[(1, 2), (3, 1)]`. ✓',
    verified: true,
    steps: [
      step(0, '`histogram` is called with `values = [1, 1, 3]`.'),
      step(1, 'Line 14: `pairs.sort(key=lambda p: -p[1])` calls the lambda: `p = (1, 3)` → `-3`.'),
      step(2, 'Loop: the loop `for v in values:` runs **3** times *(line 11)*.'),
      step(3, 'Iteration 1: `v = 1`.', 1),
    ],
  };
  const html = renderExplainHtml(explained, { nonce: NONCE });

  it('renders bold that encloses a code span (the narrative header)', () => {
    assert.match(html, /<p><strong>Run of <code>histogram\(\[1, 1, 3\]\)<\/code><\/strong> — ✓ verified/);
    assert.match(html, /<li><strong>2\.<\/strong> Line 10: <code>counts = \{\}<\/code>/);
  });

  it('renders code, bold and italic in step text', () => {
    assert.match(
      html,
      /<span class="text"><code>histogram<\/code> is called with <code>values = \[1, 1, 3\]<\/code>\.<\/span>/,
    );
    assert.match(html, /<code>pairs\.sort\(key=lambda p: -p\[1\]\)<\/code> calls the lambda: <code>p = \(1, 3\)<\/code>/);
    assert.match(html, /<code>for v in values:<\/code> runs <strong>3<\/strong> times <em>\(line 11\)<\/em>/);
    assert.match(html, /<details open><summary>.*Loop: the loop <code>for v in values:<\/code>/, 'still a loop');
  });

  it('leaves no literal Markdown markers on the page', () => {
    const text = visible(html);
    assert.ok(!text.includes('**'), `literal ** in: ${text}`);
    assert.ok(!text.includes('`'), `literal backtick in: ${text}`);
  });

  it('keeps the title and the model reasoning as plain text', () => {
    const page = renderExplainHtml(
      {
        title: "f('**', *xs) → '`a`'",
        markdown: 'ok',
        verified: true,
        steps: [],
        reasoning: [{ text: 'Then 2 * 3 * 4 = 24 and `x` is **not** markup here.', verdict: 'ok' }],
      },
      { nonce: NONCE },
    );
    assert.match(page, /<h1>f\(&#39;\*\*&#39;, \*xs\) → &#39;`a`&#39;<\/h1>/);
    assert.match(page, /<span class="text">Then 2 \* 3 \* 4 = 24 and `x` is \*\*not\*\* markup here\.<\/span>/);
  });

  it('escapes HTML inside code spans and emphasis in steps, and makes no other tags', () => {
    const page = renderExplainHtml(
      {
        title: 't',
        markdown: '**<img src=x onerror=alert(1)>** `<script>alert(1)</script>`',
        verified: true,
        steps: [step(0, '`<script>alert(1)</script>` and **<b onclick="x">** *[a](javascript:alert(1))*')],
      },
      { nonce: NONCE },
    );
    assert.equal(scripts(page).length, 1);
    assert.ok(!page.includes('<img'));
    assert.ok(!page.includes('<b '));
    assert.ok(!page.includes('javascript:'));
    assert.ok(!page.includes(' onclick="'));
    assert.match(page, /<code>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/code> and <strong>&lt;b onclick=&quot;x&quot;&gt;<\/strong> <em>a<\/em>/);
  });
});

describe('inline', () => {
  const md = (s: string): string => inline(escapeHtml(s));

  it('renders code spans of any backtick length, as the server writes values holding backticks', () => {
    assert.equal(md('`` `a` `` and ``` x``y ```'), '<code>`a`</code> and <code>x``y</code>');
    assert.equal(md('`a*b*c` and `__init__`'), '<code>a*b*c</code> and <code>__init__</code>');
    assert.equal(md('an unmatched `` run'), 'an unmatched `` run');
  });

  it('renders emphasis around and beside code spans', () => {
    assert.equal(md('**Run of `f(x)`** — ok'), '<strong>Run of <code>f(x)</code></strong> — ok');
    assert.equal(md('*see `g`* and **b *i* b**'), '<em>see <code>g</code></em> and <strong>b <em>i</em> b</strong>');
  });

  it('leaves arithmetic and snake_case alone and honours backslash escapes', () => {
    assert.equal(md('2 * 3 * 4 and a_b_c'), '2 * 3 * 4 and a_b_c');
    assert.equal(md('\\*not\\* \\`code\\`'), '*not* `code`');
  });

  it('cannot be confused by placeholder characters in the input', () => {
    assert.equal(md('a \uE0000\uE001 `b`'), 'a \uFFFD0\uFFFD <code>b</code>');
  });
});

describe('renderPredictionHtml', () => {
  it('shows prediction, actual value and reasoning, escaped', () => {
    const page = renderPredictionHtml(
      { prediction: '<b>3</b>', verified: false, actual: '4', reasoning: [{ text: 'r', verdict: 'ok' }] },
      { nonce: NONCE, call: 'f(1)' },
    );
    assert.match(page, /✗ The prediction differs/);
    assert.match(page, /&lt;b&gt;3&lt;\/b&gt;/);
    assert.match(page, /<code>4<\/code>/);
    assert.match(page, /Model reasoning/);
  });
});

describe('webview helpers', () => {
  it('accepts only well-formed messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'reveal', line: 3 }), { type: 'reveal', line: 3 });
    assert.deepEqual(parseWebviewMessage({ type: 'debug' }), { type: 'debug' });
    assert.equal(parseWebviewMessage({ type: 'reveal', line: -1 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'reveal', line: '3' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'run', code: 'x' }), undefined);
    assert.equal(parseWebviewMessage(null), undefined);
  });

  it('makes hex nonces from random bytes', () => {
    const nonce = makeNonce((n) => new Uint8Array(n).fill(171));
    assert.equal(nonce, 'ab'.repeat(16));
  });
});
