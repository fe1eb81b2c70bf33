import './mock/register';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as mock from './mock/vscode';
import { parseStatus } from '../src/protocol';
import { effectiveState, presentStatus } from '../src/status';
import { StatusBar } from '../src/statusBar';

describe('presentStatus', () => {
  const base = { trusted: true, busy: 0 };

  it('maps each server state to a text', () => {
    assert.equal(presentStatus({ ...base, state: 'ready' }).text, '$(check) tracecot');
    assert.equal(presentStatus({ ...base, state: 'running' }).text, '$(sync~spin) tracecot: running');
    assert.equal(presentStatus({ ...base, state: 'modelLoading' }).text, '$(loading~spin) tracecot: loading model');
    assert.equal(presentStatus({ ...base, state: 'stopped' }).text, '$(circle-slash) tracecot: stopped');
    assert.equal(presentStatus({ ...base, state: 'starting' }).text, '$(loading~spin) tracecot: starting');
    assert.equal(presentStatus({ ...base, state: 'error' }).text, '$(error) tracecot: error');
  });

  it('colours errors and stops, and restarts on click there', () => {
    const error = presentStatus({ ...base, state: 'error', message: 'model file missing' });
    assert.equal(error.severity, 'error');
    assert.equal(error.command, 'tracecot.restartServer');
    assert.match(error.tooltip, /model file missing/);
    assert.equal(presentStatus({ ...base, state: 'stopped' }).severity, 'warning');
    const ready = presentStatus({ ...base, state: 'ready' });
    assert.equal(ready.severity, 'normal');
    assert.equal(ready.command, 'tracecot.showOutput');
  });

  it('shows running while client requests are in flight', () => {
    assert.equal(effectiveState('ready', 2), 'running');
    assert.equal(effectiveState('modelLoading', 2), 'modelLoading');
    assert.equal(presentStatus({ ...base, state: 'ready', busy: 1 }).text, '$(sync~spin) tracecot: running');
  });

  it('marks restricted mode', () => {
    const view = presentStatus({ state: 'ready', trusted: false, busy: 0 });
    assert.equal(view.text, '$(check) tracecot $(shield)');
    assert.match(view.tooltip, /Restricted mode/);
  });
});

describe('parseStatus', () => {
  it('accepts the four server states with an optional message', () => {
    assert.deepEqual(parseStatus({ state: 'ready' }), { state: 'ready' });
    assert.deepEqual(parseStatus({ state: 'modelLoading', message: 'SmolLM2' }), { state: 'modelLoading', message: 'SmolLM2' });
    assert.deepEqual(parseStatus({ state: 'running', message: 3 }), { state: 'running' });
    assert.equal(parseStatus({ state: 'stopped' }), undefined);
    assert.equal(parseStatus('ready'), undefined);
  });
});

describe('StatusBar', () => {
  beforeEach(() => mock.reset());

  it('renders state changes and busy counts on the item', () => {
    const bar = new StatusBar(true);
    const item = (bar as unknown as { item: { text: string; visible: boolean; backgroundColor?: mock.ThemeColor } }).item;
    assert.equal(item.visible, true);
    assert.equal(item.text, '$(circle-slash) tracecot: stopped');
    bar.setState('ready');
    assert.equal(item.text, '$(check) tracecot');
    assert.equal(item.backgroundColor, undefined);
    const done = bar.busy();
    assert.equal(item.text, '$(sync~spin) tracecot: running');
    done();
    done();
    assert.equal(item.text, '$(check) tracecot');
    bar.setState('error', 'boom');
    assert.equal((item as { backgroundColor?: mock.ThemeColor }).backgroundColor?.id, 'statusBarItem.errorBackground');
    bar.setTrusted(false);
    assert.match(item.text, /\$\(shield\)$/);
  });
});
