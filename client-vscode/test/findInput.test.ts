import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { chooseAssertText } from '../src/args';
import { Commands } from '../src/commands';
import type { FindInputAnswer } from '../src/protocol';
import { assertInsertion, buildAssertText, enclosingFunction, functionEnd } from '../src/pythonSource';
import { fakeDeps } from './helpers';

const SOURCE = [
  'import math', //               0
  '', //                          1
  'def histogram(xs):', //        2
  '    """Counts values.', //     3
  '', //                          4
  'more docs', //                 5
  '    """', //                   6
  '    counts = {}', //           7
  '    for x in xs:', //          8
  '        counts[x] = counts.get(x, 0) + 1', // 9
  '', //                          10
  '    # done', //                11
  '    return counts', //         12
  '', //                          13
  '', //                          14
  'def other(', //                15
  '    a,', //                    16
  '):', //                        17
  '    return a', //              18
  '', //                          19
];

describe('Python source helpers', () => {
  it('finds the enclosing function and its end', () => {
    assert.deepEqual(enclosingFunction(SOURCE, 9), { name: 'histogram', defLine: 2, endLine: 12, indent: '' });
    assert.equal(enclosingFunction(SOURCE, 0), undefined);
    assert.equal(enclosingFunction(SOURCE, 13), undefined);
    assert.equal(enclosingFunction(SOURCE, 16)?.name, 'other');
    assert.equal(functionEnd(SOURCE, 15), 18);
  });

  it('finds nested functions and methods', () => {
    const src = ['class A:', '    def m(self):', '        def inner():', '            return 1', '        return inner()', 'x = 1'];
    assert.equal(enclosingFunction(src, 3)?.name, 'inner');
    assert.equal(enclosingFunction(src, 4)?.name, 'm');
    assert.equal(enclosingFunction(src, 4)?.indent, '    ');
    assert.equal(enclosingFunction(src, 5), undefined);
  });

  it('builds the assert text', () => {
    assert.equal(buildAssertText('f', ' [1, 2] ', ' 3 '), 'assert f([1, 2]) == 3');
  });

  it('inserts after the function, separated by a blank line, when the server gives no line', () => {
    const ins = assertInsertion(SOURCE, 'assert histogram([1]) == {1: 1}', undefined, 9);
    assert.deepEqual(ins, { line: 13, character: 0, text: '\nassert histogram([1]) == {1: 1}\n' });
  });

  it('uses the server insertLine when given', () => {
    const ins = assertInsertion(SOURCE, 'assert x', 15, 9);
    assert.deepEqual(ins, { line: 15, character: 0, text: 'assert x\n\n' });
  });

  it('appends at the end of a file without a final newline', () => {
    const lines = ['def f(a):', '    return a'];
    assert.deepEqual(assertInsertion(lines, 'assert f(1) == 1', undefined, 1), {
      line: 1,
      character: 12,
      text: '\n\nassert f(1) == 1\n',
    });
    assert.deepEqual(assertInsertion(lines, 'assert f(1) == 1', 99, 1)?.line, 1);
  });

  it('puts an assert for a method after the class, every line at column 0', () => {
    const lines = ['class Stack:', '    def push(self, x):', '        return x', '', '    def pop(self):', '        return 1', 'y = 2'];
    const block = 's = Stack()\ns.push(1)\nassert s.pop() == 1';
    assert.deepEqual(assertInsertion(lines, block, undefined, 5), {
      line: 6,
      character: 0,
      text: '\ns = Stack()\ns.push(1)\nassert s.pop() == 1\n\n',
    });
    // The same when the server names the line right after the method.
    assert.equal(assertInsertion(lines, block, 6, 5)?.text.startsWith('\ns = Stack()\ns.push(1)'), true);
    const atEnd = ['class A:', '    def m(self):', '        return 1'];
    assert.deepEqual(assertInsertion(atEnd, 'assert A().m() == 1', undefined, 2), {
      line: 2,
      character: 16,
      text: '\n\nassert A().m() == 1\n',
    });
  });

  it('gives up outside any function without insertLine', () => {
    assert.equal(assertInsertion(SOURCE, 'assert x', undefined, 0), undefined);
  });
});

describe('chooseAssertText', () => {
  const answer: FindInputAnswer = {
    inputs: [
      { args: '[1]', verified: true, result: '1' },
      { args: '[2]', verified: true, result: '1', assertText: 'assert g([2]) == 1  # own' },
      { args: '[3]', verified: true, result: '1' },
    ],
    assertText: 'assert f([1]) == 1  # server',
  };

  it('prefers the input assertText, then the answer assertText for the first input, then builds one', () => {
    assert.equal(chooseAssertText(answer, answer.inputs[1]!, 'f', '1'), 'assert g([2]) == 1  # own');
    assert.equal(chooseAssertText(answer, answer.inputs[0]!, 'f', '1'), 'assert f([1]) == 1  # server');
    assert.equal(chooseAssertText(answer, answer.inputs[2]!, 'f', '1'), 'assert f([3]) == 1');
    assert.equal(chooseAssertText({ inputs: answer.inputs }, answer.inputs[2]!, undefined, '1'), undefined);
  });
});

describe('findInput command flow', () => {
  beforeEach(() => mock.reset());

  it('asks for the target, lets the user pick a verified input and inserts the assert', async () => {
    const doc = mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const deps = fakeDeps([
      {
        inputs: [
          { args: '[7, 7]', verified: false, result: '{7: 2}' },
          { args: '[1, 1]', verified: true, result: '{1: 2}' },
        ],
        message: 'found 1 input',
      },
    ]);
    mock.script.inputBoxes.push(' {1: 2} ');
    mock.script.quickPicks.push((items) => items[0]);
    mock.script.messageAnswers.push('Insert assert');

    await new Commands(deps).findInput();

    assert.equal(mock.recorded.inputBoxes[0]?.options.validateInput?.('  '), 'Enter the output you want, e.g. 42');
    assert.equal(mock.recorded.inputBoxes[0]?.options.validateInput?.('1'), undefined);
    assert.deepEqual(deps.requests.map((r) => [r.kind, r.args]), [
      ['findInput', { uri: 'file:///ws/h.py', line: 9, target: '{1: 2}' }],
    ]);
    assert.ok(deps.requests[0]?.token !== undefined, 'a cancellation token is passed');
    const offered = mock.recorded.quickPicks[0]?.items ?? [];
    assert.deepEqual(offered.map((i) => i.label), ['histogram([1, 1])'], 'only verified inputs');
    assert.equal(mock.recorded.messages[0]?.text, '✓ assert histogram([1, 1]) == {1: 2}');
    assert.deepEqual(mock.recorded.messages[0]?.items, ['Insert assert', 'Copy']);
    const lines = doc.getText().split('\n');
    assert.equal(lines[12], '    return counts');
    assert.equal(lines[13], '');
    assert.equal(lines[14], 'assert histogram([1, 1]) == {1: 2}');
    assert.equal(lines[15], '');
    assert.equal(lines[17], 'def other(');
    assert.equal(mock.window.activeTextEditor?.selection.active.line, 14);
    assert.equal(deps.busyCount, 0);
  });

  it('uses the server assertText and insertLine, or copies', async () => {
    mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const answer = {
      inputs: [{ args: '[1]', verified: true, result: '{1: 1}' }],
      assertText: 'assert histogram([1]) == {1: 1}',
      insertLine: 14,
      function: 'histogram',
    };
    const deps = fakeDeps([answer]);
    mock.script.inputBoxes.push('{1: 1}');
    mock.script.quickPicks.push((items) => items[0]);
    mock.script.messageAnswers.push('Copy');
    await new Commands(deps).findInput();
    assert.deepEqual(mock.recorded.clipboard, ['assert histogram([1]) == {1: 1}']);
    assert.equal(mock.recorded.edits.length, 0);
  });

  it('reports when no verified input was found', async () => {
    mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const deps = fakeDeps([{ inputs: [], message: 'no input within 10 s' }]);
    mock.script.inputBoxes.push('42');
    await new Commands(deps).findInput();
    assert.equal(mock.recorded.quickPicks.length, 0);
    assert.equal(mock.recorded.messages[0]?.text, 'tracecot: no input within 10 s');
  });

  it('sends nothing when the target prompt is cancelled', async () => {
    mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const deps = fakeDeps([]);
    mock.script.inputBoxes.push(undefined);
    await new Commands(deps).findInput();
    assert.equal(deps.requests.length, 0);
  });
});
