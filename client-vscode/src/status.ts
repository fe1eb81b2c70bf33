/**
 * What the status bar item shows for a server state. Pure: no vscode import.
 */
import { ClientCommand, type ServerStatusState } from './protocol';

/** Server states reported by `tracecot/status`, plus the client's own. */
export type ServerState = ServerStatusState | 'starting' | 'stopped';

export interface StatusInputs {
  state: ServerState;
  message?: string | undefined;
  trusted: boolean;
  /** Client requests in flight. */
  busy: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  severity: 'normal' | 'warning' | 'error';
  /** Command run on click. */
  command: string;
}

const LABELS: Record<ServerState, { icon: string; label: string; tooltip: string }> = {
  starting: { icon: '$(loading~spin)', label: 'starting', tooltip: 'starting the server…' },
  ready: { icon: '$(check)', label: '', tooltip: 'ready' },
  running: { icon: '$(sync~spin)', label: 'running', tooltip: 'running code…' },
  modelLoading: { icon: '$(loading~spin)', label: 'loading model', tooltip: 'loading the model…' },
  error: { icon: '$(error)', label: 'error', tooltip: 'the server reported an error' },
  stopped: { icon: '$(circle-slash)', label: 'stopped', tooltip: 'the server is not running; click to restart' },
};

/** The state to show: a ready server with client requests in flight is running. */
export function effectiveState(state: ServerState, busy: number): ServerState {
  return state === 'ready' && busy > 0 ? 'running' : state;
}

export function presentStatus(input: StatusInputs): StatusView {
  const state = effectiveState(input.state, input.busy);
  const l = LABELS[state];
  let text = l.label === '' ? `${l.icon} tracecot` : `${l.icon} tracecot: ${l.label}`;
  const lines = [`tracecot: ${l.tooltip}`];
  if (input.message !== undefined && input.message !== '') {
    lines.push(input.message);
  }
  if (!input.trusted) {
    text += ' $(shield)';
    lines.push('Restricted mode: the workspace is not trusted, so tracecot runs no code.');
  }
  const severity = state === 'error' ? 'error' : state === 'stopped' ? 'warning' : 'normal';
  const command = state === 'error' || state === 'stopped' ? ClientCommand.restartServer : ClientCommand.showOutput;
  lines.push(command === ClientCommand.restartServer ? 'Click to restart the server.' : 'Click to show the server log.');
  return { text, tooltip: lines.join('\n'), severity, command };
}
