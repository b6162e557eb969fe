// Errors the CLI reports to the user: one line on stderr and an exit status scripts can rely on.
export const EXIT_OK = 0;
/** Usage or input error: unknown command or option, bad argument, refused by the daemon as invalid. */
export const EXIT_USAGE = 1;
/** No daemon answers for this home. */
export const EXIT_NOT_RUNNING = 2;
/** The user's role (or an invitation's state) does not permit it. */
export const EXIT_FORBIDDEN = 3;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function daemonNotRunning(home: string, why?: string): CliError {
  const detail = why === undefined ? '' : `; ${why}`;
  return new CliError(EXIT_NOT_RUNNING, `the daemon is not running: start it with \`trellis start\` (home ${home}${detail})`);
}
