// The `trellis` command tree, and the one place where every failure becomes a single line on
// stderr with a documented exit status (never a stack trace).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TrellisError } from '../core/errors.ts';
import { CliError, EXIT_FORBIDDEN, EXIT_OK, EXIT_USAGE } from './cli-error.ts';
import { registerChat } from './commands/chat.ts';
import { registerHistory } from './commands/history.ts';
import { registerFiles } from './commands/files.ts';
import { registerInit } from './commands/init.ts';
import { registerInvitations } from './commands/invitations.ts';
import { registerMembers } from './commands/members.ts';
import { registerMembership } from './commands/membership.ts';
import { registerRelay } from './commands/relay.ts';
import { registerStart } from './commands/start.ts';
import { registerStatus } from './commands/status.ts';
import { registerStop } from './commands/stop.ts';
import { registerTools } from './commands/tools.ts';
import { registerWorkspace } from './commands/workspace.ts';

export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Trellis: peer-to-peer collaborative workspaces')
    .version(packageVersion(), '-V, --version')
    // Recognised before and after the subcommand (commander's default for program options).
    .option('--home <dir>', 'home directory (default: $TRELLIS_HOME, else ~/.trellis)')
    .showSuggestionAfterError(true)
    // Commander's own error text is replaced by ours (see usageError); help still goes to stdout.
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  registerInit(program);
  registerStart(program);
  registerRelay(program);
  registerStop(program);
  registerStatus(program);
  registerWorkspace(program);
  registerInvitations(program);
  registerMembers(program);
  registerMembership(program);
  registerChat(program);
  registerTools(program);
  registerHistory(program);
  registerFiles(program);

  forEachCommand(program, (cmd) => {
    cmd.exitOverride((err) => { throw usageError(err, cmd); });
  });
  return program;
}

/** Runs the CLI; returns the exit status (the `start` command only returns if it fails to start). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    const { code, message } = describe(err);
    if (message !== '') process.stderr.write(`trellis: ${message}\n`);
    return code;
  }
}

function describe(err: unknown): { code: number; message: string } {
  if (err instanceof CliError) return { code: err.exitCode, message: oneLine(err.message) };
  if (err instanceof TrellisError) return { code: err.code === 'forbidden' ? EXIT_FORBIDDEN : EXIT_USAGE, message: oneLine(err.message) };
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: EXIT_USAGE, message: `unexpected error: ${oneLine(e.message)} (please report this)` };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Commander's errors, rephrased as one line that says what to do next. */
function usageError(err: CommanderError, cmd: Command): CliError {
  // --help and --version "fail" with status 0 after printing.
  if (err.exitCode === 0) return new CliError(EXIT_OK, '');
  const path = commandPath(cmd);
  if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
    return new CliError(EXIT_USAGE, `${path === 'trellis' ? 'no command given' : `\`${path}\` needs a subcommand`}: run \`${path} --help\` to see them`);
  }
  const text = oneLine(err.message.replace(/^error:\s*/i, '')).replace(/\(Did you mean/, '(did you mean').replace(/[.:]$/, '');
  const where = err.code === 'commander.unknownCommand' ? `run \`${path} --help\` to see the commands` : `see \`${path} --help\``;
  return new CliError(EXIT_USAGE, `${text}: ${where}`);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function forEachCommand(cmd: Command, visit: (c: Command) => void): void {
  visit(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, visit);
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
