/**
 * `tracecot.*` settings: reading them (from any getter), the
 * initializationOptions sent to the server, and what a change means.
 * Pure: no vscode import.
 */

export interface TracecotSettings {
  interpreter: string;
  model: { path: string; adapter: string; enabled: boolean };
  run: { timeout: number; stepCap: number };
  inlayHints: { enabled: boolean };
  inputFinder: { budget: number };
}

export const DEFAULT_SETTINGS: Readonly<TracecotSettings> = Object.freeze({
  interpreter: '',
  model: { path: '', adapter: '', enabled: true },
  run: { timeout: 2, stepCap: 2000000 },
  inlayHints: { enabled: true },
  inputFinder: { budget: 10 },
});

/** Settings that changing does not need a server restart for. */
export const LIVE_SETTINGS: readonly string[] = ['inlayHints.enabled'];

export interface InitializationOptions {
  settings: TracecotSettings;
  trusted: boolean;
}

/** Reads one setting, by its key under `tracecot.` (e.g. `model.path`). */
export type SettingGetter = (key: string) => unknown;

function stringOr(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v.trim() : fallback;
}

function boolOr(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function positiveOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

function positiveIntOr(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : fallback;
}

/** Reads all settings; a wrongly typed or out-of-range value falls back to its default. */
export function readSettings(get: SettingGetter): TracecotSettings {
  const d = DEFAULT_SETTINGS;
  return {
    interpreter: stringOr(get('interpreter'), d.interpreter),
    model: {
      path: stringOr(get('model.path'), d.model.path),
      adapter: stringOr(get('model.adapter'), d.model.adapter),
      enabled: boolOr(get('model.enabled'), d.model.enabled),
    },
    run: {
      timeout: positiveOr(get('run.timeout'), d.run.timeout),
      stepCap: positiveIntOr(get('run.stepCap'), d.run.stepCap),
    },
    inlayHints: { enabled: boolOr(get('inlayHints.enabled'), d.inlayHints.enabled) },
    inputFinder: { budget: positiveOr(get('inputFinder.budget'), d.inputFinder.budget) },
  };
}

/**
 * What the server gets in `initialize`. In an untrusted workspace the
 * interpreter setting is never used, so it is not passed on either.
 */
export function initializationOptions(settings: TracecotSettings, trusted: boolean): InitializationOptions {
  const copy: TracecotSettings = JSON.parse(JSON.stringify(settings)) as TracecotSettings;
  if (!trusted) {
    copy.interpreter = '';
  }
  return { settings: copy, trusted };
}

function flatten(prefix: string, value: unknown, out: Map<string, unknown>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      flatten(prefix === '' ? k : `${prefix}.${k}`, v, out);
    }
  } else {
    out.set(prefix, value);
  }
}

/** Dotted keys (e.g. `run.timeout`) whose values differ, sorted. */
export function changedKeys(before: TracecotSettings, after: TracecotSettings): string[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten('', before, a);
  flatten('', after, b);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** A server restart is needed unless only live settings changed. */
export function restartNeeded(changed: readonly string[]): boolean {
  return changed.some((k) => !LIVE_SETTINGS.includes(k));
}
