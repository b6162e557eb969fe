// Runs the real `trellis` CLI as a child process (Node 24 via process.execPath) and collects
// its exit status and output. Bounded: a CLI that hangs is killed and the test fails.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], opts: { home?: string; timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // the CLI is not a test file
  if (opts.home !== undefined) env.TRELLIS_HOME = opts.home;
  else delete env.TRELLIS_HOME;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), 'src/cli/main.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trellis ${args.join(' ').slice(0, 80)} did not finish within ${opts.timeoutMs ?? 20_000} ms`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The error contract: exactly one line on stderr, `trellis: ...`, no stack trace. */
export function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${r.stderr}`);
  if (!lines[0].startsWith('trellis: ')) throw new Error(`stderr does not start with "trellis: ": ${lines[0]}`);
  if (/\bat .+:\d+:\d+/.test(r.stderr) || /Error:/.test(r.stderr)) throw new Error(`stack trace or raw error on stderr: ${r.stderr}`);
  return lines[0];
}
