import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { ResultPanel } from '../src/resultPanel';

const ANSWER = {
  title: 'f(<x>)',
  markdown: 'ok',
  verified: true,
  steps: [{ index: 0, line: 1, text: '<script>alert(1)</script>', verified: true, depth: 0 }],
};

describe('ResultPanel', () => {
  beforeEach(() => mock.reset());

  it('opens one locked-down webview titled "tracecot: <title>" and reuses it', () => {
    const panel = new ResultPanel();
    panel.showExplain(ANSWER, { args: { uri: 'file:///ws/m.py' } });
    panel.showExplain({ ...ANSWER, title: 'second' }, { args: { uri: 'file:///ws/m.py' } });
    assert.equal(mock.recorded.panels.length, 1);
    const p = mock.recorded.panels[0]!;
    assert.equal(p.title, 'tracecot: second');
    assert.deepEqual(p.options, { enableScripts: true, enableCommandUris: false, enableFindWidget: true, localResourceRoots: [] });
    assert.ok(!p.webview.html.includes('<script>alert'));
    const nonce = /nonce="([0-9a-f]{32})"/.exec(p.webview.html)?.[1];
    assert.ok(nonce !== undefined);
    panel.showExplain(ANSWER, { args: { uri: 'file:///ws/m.py' } });
    assert.ok(!p.webview.html.includes(`nonce="${nonce}"`), 'a fresh nonce per render');
  });

  it('renders the Markdown of an "Explain this run" answer, not its markers', () => {
    const panel = new ResultPanel();
    panel.showExplain(
      {
        title: 'f(2) → 4',
        markdown: '**Run of `f(2)`** — ✓ verified: 2/2 claims\n\n- **1.** `f` is called with `x = 2`. ✓',
        verified: true,
        steps: [{ index: 0, line: 1, text: 'Line 2: `y = x * x` sets `y` to `4`.', verified: true, depth: 0 }],
      },
      { args: { uri: 'file:///ws/m.py' } },
    );
    const html = mock.recorded.panels[0]!.webview.html;
    assert.match(html, /<strong>Run of <code>f\(2\)<\/code><\/strong>/);
    assert.match(html, /<span class="text">Line 2: <code>y = x \* x<\/code> sets <code>y<\/code> to <code>4<\/code>\.<\/span>/);
    const body = /<body>([\s\S]*)<script/.exec(html)?.[1] ?? '';
    assert.ok(!body.replace(/<[^>]*>/g, '').includes('**'), 'no literal **');
  });

  it('reveals the clicked step line in the editor', async () => {
    mock.openDocument('file:///ws/m.py', 'def f(x):\n    return x\n');
    const panel = new ResultPanel();
    panel.showExplain(ANSWER, { args: { uri: 'file:///ws/m.py' } });
    mock.recorded.panels[0]!.post({ type: 'reveal', line: 1 });
    await new Promise((r) => setTimeout(r, 0));
    const editor = mock.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), 'file:///ws/m.py');
    assert.equal(editor?.selection.active.line, 1);
    assert.equal(editor?.revealed?.start.line, 1);
  });

  it('ignores malformed messages and runs debugRun for the debug button', async () => {
    const panel = new ResultPanel();
    panel.showExplain({ ...ANSWER, runId: 'r1' }, { args: { uri: 'file:///ws/m.py', function: 'f', args: '1' } });
    mock.recorded.panels[0]!.post({ type: 'reveal', line: 'x' });
    mock.recorded.panels[0]!.post({ type: 'debug' });
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(mock.recorded.executed, [
      { command: 'tracecot.debugRun', args: [{ uri: 'file:///ws/m.py', function: 'f', args: '1', runId: 'r1' }] },
    ]);
  });
});
