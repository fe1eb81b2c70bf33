/** Shared fakes for command tests. */
import type { CommandDeps } from '../src/commands';
import type { CommandArgs, ExplainAnswer, PredictAnswer, RunCommandKind } from '../src/protocol';
import type { TokenLike } from '../src/server';

export interface FakeDeps extends CommandDeps {
  requests: { kind: RunCommandKind; args: CommandArgs; token: TokenLike | undefined }[];
  shown: { kind: 'explain' | 'prediction'; answer: ExplainAnswer | PredictAnswer; args: CommandArgs; call?: string | undefined }[];
  busyCount: number;
  restarts: number;
}

export type Responder = (args: CommandArgs, token: TokenLike | undefined) => Promise<unknown>;

/** Answers are returned in order; a function answer (a Responder) is called with the request. */
export function fakeDeps(answers: unknown[], trusted = true): FakeDeps {
  const deps: FakeDeps = {
    requests: [],
    shown: [],
    busyCount: 0,
    restarts: 0,
    execute(kind, args, token) {
      deps.requests.push({ kind, args, token });
      const next = answers.shift();
      if (typeof next === 'function') {
        return (next as Responder)(args, token);
      }
      return Promise.resolve(next);
    },
    panel: {
      showExplain: (answer, ctx) => deps.shown.push({ kind: 'explain', answer, ...ctx }),
      showPrediction: (answer, ctx) => deps.shown.push({ kind: 'prediction', answer, ...ctx }),
    },
    isTrusted: () => trusted,
    busy: () => {
      deps.busyCount++;
      return () => {
        deps.busyCount--;
      };
    },
    restart: () => {
      deps.restarts++;
      return Promise.resolve();
    },
    showOutput: () => undefined,
  };
  return deps;
}
