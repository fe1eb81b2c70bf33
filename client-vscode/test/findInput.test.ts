import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { chooseAssert } from '../src/args';
import { Commands } from '../src/commands';
import type { FindInputAnswer } from '../src/protocol';
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

/** The LSP TextEdit the server sends: an insertion at (line, character). */
function insertEdit(line: number, character: number, newText: string) {
  return { range: { start: { line, character }, end: { line, character } }, newText };
}

describe('chooseAssert', () => {
  const edit = { line: 13, character: 0, newText: '\nassert g([2]) == 1\n' };
  const answer: FindInputAnswer = {
    inputs: [
      { args: '[1]', verified: true, result: '1' },
      { args: '[2]', verified: true, result: '1', assertText: 'assert g([2]) == 1  # own', edit },
      { args: '[3]', verified: true, result: '1' },
    ],
    assertText: 'assert f([1]) == 1  # server',
  };

  it('takes the input assert and edit, then the answer assert for the first input, else none', () => {
    assert.deepEqual(chooseAssert(answer, answer.inputs[1]!), { text: 'assert g([2]) == 1  # own', edit });
    assert.deepEqual(chooseAssert(answer, answer.inputs[0]!), { text: 'assert f([1]) == 1  # server' });
    assert.equal(chooseAssert(answer, answer.inputs[2]!), undefined, 'the client writes no Python');
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
          {
            args: '[1, 1]',
            verified: true,
            result: '{1: 2}',
            assertText: 'assert histogram([1, 1]) == {1: 2}',
            edit: insertEdit(13, 0, '\nassert histogram([1, 1]) == {1: 2}\n'),
          },
        ],
        message: 'found 1 input',
        function: 'histogram',
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

  it('copies the server assertText when asked to', async () => {
    mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const answer = {
      inputs: [{ args: '[1]', verified: true, result: '{1: 1}' }],
      assertText: 'assert histogram([1]) == {1: 1}',
      edit: insertEdit(14, 0, 'assert histogram([1]) == {1: 1}\n'),
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

  it('copies instead of inserting without a server edit, or when the file changed meanwhile', async () => {
    const doc = mock.openDocument('file:///ws/h.py', SOURCE.join('\n'), 'python', 9);
    const withEdit = {
      inputs: [{ args: '[1]', verified: true, result: '{1: 1}', assertText: 'assert histogram([1]) == {1: 1}' }],
      function: 'histogram',
    };
    const deps = fakeDeps([withEdit]);
    mock.script.inputBoxes.push('{1: 1}');
    mock.script.quickPicks.push((items) => items[0]);
    mock.script.messageAnswers.push('Insert assert');
    await new Commands(deps).findInput();
    assert.deepEqual(mock.recorded.clipboard, ['assert histogram([1]) == {1: 1}']);
    assert.equal(mock.recorded.edits.length, 0);
    assert.equal(doc.getText(), SOURCE.join('\n'));

    const stale = {
      inputs: [{ ...withEdit.inputs[0]!, edit: insertEdit(13, 0, '\nassert histogram([1]) == {1: 1}\n') }],
      function: 'histogram',
    };
    const changing = fakeDeps([
      () => {
        doc.text = '# edited while searching\n' + doc.text;
        return Promise.resolve(stale);
      },
    ]);
    mock.script.inputBoxes.push('{1: 1}');
    mock.script.quickPicks.push((items) => items[0]);
    mock.script.messageAnswers.push('Insert assert');
    await new Commands(changing).findInput();
    assert.equal(mock.recorded.edits.length, 0);
    assert.equal(mock.recorded.clipboard.length, 2);
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
