import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClientCommand,
  errorText,
  parseDebug,
  parseExplain,
  parseFindInput,
  parseNeedsArgs,
  parsePredict,
  ProtocolError,
  ServerCommand,
} from '../src/protocol';

describe('protocol', () => {
  it('prefixes server command ids so they do not clash with client ids', () => {
    for (const [kind, id] of Object.entries(ServerCommand)) {
      assert.equal(id, `tracecot.server.${kind}`);
      assert.equal(ClientCommand[kind as keyof typeof ServerCommand], `tracecot.${kind}`);
    }
  });

  it('recognises errors and argument requests', () => {
    assert.equal(errorText({ error: 'boom' }), 'boom');
    assert.equal(errorText({ title: 'x' }), undefined);
    assert.deepEqual(parseNeedsArgs({ needsArgs: true, function: 'f', suggestions: ['1', 2] }), {
      needsArgs: true,
      function: 'f',
      suggestions: ['1'],
    });
    assert.equal(parseNeedsArgs({ needsArgs: false }), undefined);
  });

  it('normalises explain answers', () => {
    const a = parseExplain({
      title: 't',
      markdown: 'm',
      verified: true,
      steps: [{ index: 0, line: 2, text: 's', verified: null, depth: 1 }, { bad: 1 }, { text: 'x', line: -3 }],
      reasoning: [{ text: 'r', verdict: 'maybe' }],
      runId: 'r1',
    });
    assert.deepEqual(a.steps, [
      { index: 0, line: 2, text: 's', verified: null, depth: 1 },
      { index: 2, line: -1, text: 'x', verified: null, depth: 0 },
    ]);
    assert.deepEqual(a.reasoning, [{ text: 'r', verdict: 'unchecked' }]);
    assert.equal(a.runId, 'r1');
    assert.throws(() => parseExplain({}), ProtocolError);
    assert.throws(() => parseExplain('x'), ProtocolError);
  });

  it('normalises findInput, predict and debug answers', () => {
    assert.deepEqual(parseFindInput({ inputs: [{ args: '1', verified: true, result: '2' }, {}], insertLine: 4, function: 'f' }), {
      inputs: [{ args: '1', verified: true, result: '2' }],
      insertLine: 4,
      function: 'f',
    });
    assert.throws(() => parseFindInput({}), ProtocolError);
    const at = (line: number, character: number) => ({ line, character });
    const edit = { range: { start: at(3, 0), end: at(3, 0) }, newText: '\nassert f(1) == 2\n' };
    assert.deepEqual(parseFindInput({ inputs: [{ args: '1', verified: true, result: '2', edit }], edit }), {
      inputs: [{ args: '1', verified: true, result: '2', edit: { line: 3, character: 0, newText: '\nassert f(1) == 2\n' } }],
      edit: { line: 3, character: 0, newText: '\nassert f(1) == 2\n' },
    });
    // only insertions are taken: a replacing range, or a malformed one, is dropped
    const replacing = { ...edit, range: { start: at(3, 0), end: at(4, 0) } };
    assert.deepEqual(parseFindInput({ inputs: [], edit: replacing }), { inputs: [] });
    assert.deepEqual(parseFindInput({ inputs: [], edit: { newText: 'x', range: { start: at(-1, 0), end: at(-1, 0) } } }), { inputs: [] });
    assert.deepEqual(parsePredict({ prediction: 3, verified: false, actual: '4' }), { prediction: '3', verified: false, actual: '4' });
    assert.throws(() => parsePredict({ verified: true }), ProtocolError);
    assert.deepEqual(parseDebug({ program: '/p.py', args: ['a'], cwd: '/w' }), { program: '/p.py', args: ['a'], cwd: '/w' });
    assert.deepEqual(parseDebug({ program: '/p.py' }), { program: '/p.py', args: [], cwd: '' });
    assert.throws(() => parseDebug({ program: '/p.py', args: [1] }), ProtocolError);
  });
});
