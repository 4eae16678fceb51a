/**
 * runCli: the whole command line as a function (argv without node and the script), returning the
 * exit code. Output goes to io.stdout / io.stderr, so that tests can run it in-process.
 */
import { readFileSync } from 'node:fs';
import { parseCli, USAGE } from './args.js';
import { explainCommand, infoCommand, predictCommand, type CliIO } from './commands.js';
import { errorLine, exitCodeOf } from './errors.js';
import { evaluateCommand } from './evaluate.js';

export type { CliIO } from './commands.js';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function runCli(argv: string[], io?: CliIO): Promise<number> {
  const out: CliIO = io ?? { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stderr.isTTY), stdoutIsTTY: Boolean(process.stdout.isTTY) };
  try {
    const parsed = parseCli(argv);
    if (parsed.kind === 'help') {
      out.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      out.stdout.write(`lrp-wasm ${version()}\n`);
      return 0;
    }
    const o = parsed.options;
    switch (o.command) {
      case 'explain':
        return await explainCommand(o, out);
      case 'predict':
        return await predictCommand(o, out);
      case 'info':
        return await infoCommand(o, out);
      case 'evaluate':
        return await evaluateCommand(o, out);
    }
  } catch (e) {
    out.stderr.write(`${errorLine(e)}\n`);
    if (process.env.LRP_DEBUG && e instanceof Error && e.stack) out.stderr.write(`${e.stack}\n`);
    return exitCodeOf(e);
  }
}
