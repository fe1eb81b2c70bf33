import './mock/register';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCommandArgs, callText, checkArgsSource, shorten } from '../src/args';
import { Uri } from './mock/vscode';

const editor = { uri: 'file:///ws/m.py', line: 7, languageId: 'python' };

describe('buildCommandArgs', () => {
  it('fills uri and cursor line from the active editor (palette)', () => {
    assert.deepEqual(buildCommandArgs(undefined, editor), { ok: true, args: { uri: 'file:///ws/m.py', line: 7 } });
  });

  it('refuses without an editor or on a non-Python file', () => {
    const none = buildCommandArgs(undefined, undefined);
    assert.equal(none.ok, false);
    const js = buildCommandArgs(undefined, { ...editor, languageId: 'javascript' });
    assert.equal(js.ok, false);
    assert.match(js.ok ? '' : js.reason, /Python/);
  });

  it('uses an arguments object from a code lens as is, keeping only known fields', () => {
    const r = buildCommandArgs(
      { uri: 'file:///ws/a.py', function: 'f', line: 3, args: '[1, 2]', runId: 'r1', extra: 'x', target: 5 },
      editor,
    );
    assert.deepEqual(r, { ok: true, args: { uri: 'file:///ws/a.py', function: 'f', line: 3, args: '[1, 2]', runId: 'r1' } });
  });

  it('drops a negative or fractional line', () => {
    const r = buildCommandArgs({ uri: 'file:///ws/a.py', line: -1 }, editor);
    assert.deepEqual(r, { ok: true, args: { uri: 'file:///ws/a.py' } });
    const r2 = buildCommandArgs({ uri: 'file:///ws/a.py', line: 1.5 }, editor);
    assert.deepEqual(r2, { ok: true, args: { uri: 'file:///ws/a.py' } });
  });

  it('takes the cursor line when the context menu passes the active document uri', () => {
    const r = buildCommandArgs(Uri.parse('file:///ws/m.py'), editor);
    assert.deepEqual(r, { ok: true, args: { uri: 'file:///ws/m.py', line: 7 } });
    const other = buildCommandArgs(Uri.parse('file:///ws/other.py'), editor);
    assert.deepEqual(other, { ok: true, args: { uri: 'file:///ws/other.py' } });
  });
});

describe('argument helpers', () => {
  it('writes calls', () => {
    assert.equal(callText('f', ' [1, 2] '), 'f([1, 2])');
    assert.equal(callText('f', ''), 'f()');
    assert.equal(callText(undefined, '1'), undefined);
    assert.equal(callText('f', undefined), undefined);
  });

  it('checks argument source lightly', () => {
    assert.equal(checkArgsSource('[1, 2], key=len'), undefined);
    assert.equal(checkArgsSource("'a)', \"b]\""), undefined);
    assert.equal(checkArgsSource('"""x)"""'), undefined);
    assert.match(checkArgsSource('') ?? '', /Enter/);
    assert.match(checkArgsSource('[1, 2') ?? '', /Unclosed "\["/);
    assert.match(checkArgsSource('1, 2)') ?? '', /Unbalanced/);
    assert.match(checkArgsSource("'abc") ?? '', /Unclosed string/);
  });

  it('shortens long values', () => {
    assert.equal(shorten('a\n  b'), 'a b');
    assert.equal(shorten('x'.repeat(200), 10), `${'x'.repeat(9)}…`);
  });
});
