// Container events that need more than a record: a run's end (oom, then die with its exit
// code, docker's order) and a kill (its signal as a number, as docker's attribute).
import { parseSignal } from '../../spec/tables.js';
import { emitContainer, type ContainerLike, type HasRun } from './journal.js';

export function emitExit(engine: HasRun, rec: ContainerLike & { State?: { OOMKilled?: boolean } }, exitCode: number): void {
  if (rec.State?.OOMKilled) emitContainer(engine, 'oom', rec);
  emitContainer(engine, 'die', rec, { exitCode: String(exitCode) });
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
