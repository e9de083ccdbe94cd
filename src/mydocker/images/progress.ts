// The CLI side of Progress: a bar per layer (and one for the archive's bytes) on a terminal,
// through cli-progress; nothing at all when the stream is not a tty (scripts, pipes, tests).
import type { Progress } from './types.js';

export interface ProgressRenderer extends Progress {
  /** Draw the final state and release the terminal. */
  stop(): void;
}

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)}${units[i]}`;
}

const quiet: ProgressRenderer = { onLayer() {}, stop() {} };

/** Bars on `out` (stdout by default) when it is a tty; a no-op renderer otherwise. */
export async function progressRenderer(out: NodeJS.WriteStream = process.stdout): Promise<ProgressRenderer> {
  if (!out.isTTY) return quiet;
  const { default: cliProgress } = await import('cli-progress');
  const multi = new cliProgress.MultiBar(
    {
      stream: out,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      fps: 10,
      format: (options, params, payload: { label: string; phase: string }) => {
        const known = params.total > 0;
        const bar = known ? (options.barCompleteString ?? '=').slice(0, Math.round(params.progress * 30)).padEnd(30, ' ') : ''.padEnd(30, ' ');
        const amount = known ? `${humanBytes(params.value)}/${humanBytes(params.total)}` : humanBytes(params.value);
        return `${payload.label}: ${payload.phase.padEnd(11)} [${bar}] ${amount}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, ReturnType<typeof multi.create>>();
  return {
    onLayer(e) {
      const label = e.digest.startsWith('sha256:') ? e.digest.slice(7, 19) : e.digest;
      let bar = bars.get(e.digest);
      if (!bar) {
        bar = multi.create(e.total ?? 0, 0, { label, phase: e.phase });
        bars.set(e.digest, bar);
      }
      if (e.total !== undefined) bar.setTotal(e.total);
      bar.update(e.done ?? 0, { label, phase: e.phase });
    },
    stop() {
      multi.stop();
    },
  };
}
