/**
 * A progress bar on stderr (cli-progress) for runs with more than a few samples, only when stderr
 * is a terminal; otherwise a no-op, so that logs and pipes stay clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, label: string): void;
  update(value: number): void;
  stop(): void;
}

/** Shown from this many samples on. */
export const PROGRESS_MIN = 8;

const NONE: Progress = { start() {}, update() {}, stop() {} };

export function createProgress(stream: NodeJS.WritableStream, isTTY: boolean, samples: number): Progress {
  if (!isTTY || samples < PROGRESS_MIN) return NONE;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total, label) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label.padEnd(10)} [{bar}] {value}/{total} {eta_formatted}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          noTTYOutput: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update(value) {
      bar?.update(value);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
