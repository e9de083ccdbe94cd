// Container events that need more than a record: a run's end (oom, then die with its exit
// code, docker's order) and a kill (its signal as a number, as docker's attribute).
import { parseSignal } from '../../spec/tables.js';
import { emitContainer, emitNetwork, type ContainerLike, type HasRun } from './journal.js';

type Networks = Record<string, { NetworkID?: string }>;

/** A run's end: oom, die, then its networks' disconnect (docker's order). */
export function emitExit(engine: HasRun, rec: ContainerLike & { State?: { OOMKilled?: boolean }; Networks?: Networks; HostConfig?: { NetworkMode?: string } }, exitCode: number): void {
  if (rec.State?.OOMKilled) emitContainer(engine, 'oom', rec);
  emitContainer(engine, 'die', rec, { exitCode: String(exitCode) });
  emitNetworks(engine, 'disconnect', rec);
}

/**
 * The die of a run nobody recorded the exit of (a removal right after the process ended: `run
 * --rm`, `rm -f`): only if the record, read now under the caller's lock, still says running —
 * conmon's cleanup may have recorded it (and said die) first.
 */
export function emitUnrecordedExit(engine: HasRun & { containers: { read(id: string): { State: { Status: string } } } }, rec: Parameters<typeof emitExit>[1], exitCode: () => number): void {
  try {
    if (engine.containers.read(rec.Id).State.Status !== 'running') return;
    emitExit(engine, rec, exitCode());
  } catch {
    /* an event is never worth failing the removal */
  }
}

/** connect/disconnect of each network a container is on (none for none, host, container:X). */
export function emitNetworks(engine: HasRun, action: 'connect' | 'disconnect', rec: ContainerLike & { Networks?: Networks; HostConfig?: { NetworkMode?: string } }): void {
  const mode = rec.HostConfig?.NetworkMode ?? '';
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) return;
  for (const [name, att] of Object.entries(rec.Networks ?? {})) emitNetwork(engine, action, att.NetworkID ?? name, name, rec.Id);
}

export function emitKill(engine: HasRun, rec: ContainerLike, signal: string | number): void {
  emitContainer(engine, 'kill', rec, { signal: String(signalNumber(signal)) });
}

function signalNumber(signal: string | number): number | string {
  if (typeof signal === 'number' || /^\d+$/.test(signal)) return Number(signal);
  const up = signal.toUpperCase();
  try {
    return parseSignal(up.startsWith('SIG') ? up : `SIG${up}`);
  } catch {
    return signal;
  }
}
