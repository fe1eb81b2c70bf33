import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedKeys,
  DEFAULT_SETTINGS,
  initializationOptions,
  readSettings,
  restartNeeded,
  type TracecotSettings,
} from '../src/settings';

function from(values: Record<string, unknown>): TracecotSettings {
  return readSettings((key) => values[key]);
}

describe('settings', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(from({}), {
      interpreter: '',
      model: { path: '', adapter: '', enabled: true },
      run: { timeout: 2, stepCap: 2000000 },
      inlayHints: { enabled: true },
      inputFinder: { budget: 10 },
    });
    assert.deepEqual(from({}), DEFAULT_SETTINGS);
  });

  it('reads every setting by its dotted key', () => {
    const s = from({
      interpreter: ' /venv/bin/python ',
      'model.path': '/m.gguf',
      'model.adapter': '/a',
      'model.enabled': false,
      'run.timeout': 5.5,
      'run.stepCap': 1000,
      'inlayHints.enabled': false,
      'inputFinder.budget': 30,
    });
    assert.deepEqual(s, {
      interpreter: '/venv/bin/python',
      model: { path: '/m.gguf', adapter: '/a', enabled: false },
      run: { timeout: 5.5, stepCap: 1000 },
      inlayHints: { enabled: false },
      inputFinder: { budget: 30 },
    });
  });

  it('falls back to defaults for wrong types and out-of-range numbers', () => {
    const s = from({ 'run.timeout': -1, 'run.stepCap': 'many', 'model.enabled': 'yes', 'inputFinder.budget': NaN, interpreter: 3 });
    assert.equal(s.run.timeout, 2);
    assert.equal(s.run.stepCap, 2000000);
    assert.equal(s.model.enabled, true);
    assert.equal(s.inputFinder.budget, 10);
    assert.equal(s.interpreter, '');
  });

  it('builds initializationOptions with settings and trust', () => {
    const s = from({ interpreter: '/venv/bin/python', 'run.timeout': 3 });
    const trusted = initializationOptions(s, true);
    assert.equal(trusted.trusted, true);
    assert.deepEqual(trusted.settings, s);
    assert.notEqual(trusted.settings, s, 'a copy, not the same object');
    assert.deepEqual(JSON.parse(JSON.stringify(trusted)), trusted, 'JSON-serialisable');
  });

  it('does not pass the interpreter setting on in an untrusted workspace', () => {
    const s = from({ interpreter: '/evil/python', 'model.path': '/m' });
    const options = initializationOptions(s, false);
    assert.equal(options.trusted, false);
    assert.equal(options.settings.interpreter, '');
    assert.equal(options.settings.model.path, '/m');
    assert.equal(s.interpreter, '/evil/python', 'the input is not modified');
  });

  it('lists changed keys and decides on restarts', () => {
    const a = from({});
    assert.deepEqual(changedKeys(a, from({})), []);
    const onlyHints = changedKeys(a, from({ 'inlayHints.enabled': false }));
    assert.deepEqual(onlyHints, ['inlayHints.enabled']);
    assert.equal(restartNeeded(onlyHints), false);
    const more = changedKeys(a, from({ 'run.timeout': 9, 'inlayHints.enabled': false }));
    assert.deepEqual(more, ['inlayHints.enabled', 'run.timeout']);
    assert.equal(restartNeeded(more), true);
    assert.equal(restartNeeded(['model.path']), true);
  });
});
