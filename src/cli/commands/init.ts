// `trellis init --name NAME`: creates this device's identity. Local only; no daemon needed.
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { printJson, printLine, safeLine } from '../output.ts';

export function registerInit(program: Command): void {
  program.command('init')
    .description("create this device's identity (signing and agreement keys) in the home directory")
    .requiredOption('--name <name>', 'your name as other members will see it')
    .option('--json', 'machine-readable output')
    .action(async (opts: { name: string; json?: boolean }, cmd: Command) => {
      const home = homeOf(cmd);
      // Lazy: the identity module loads libsodium, which other commands must not pay for.
      const { createIdentity, hasIdentity } = await import('../../store/identity-file.ts');
      if (hasIdentity(home)) {
        throw new CliError(EXIT_USAGE, `an identity already exists in ${home}: keep using it, or pass --home DIR to create another one elsewhere`);
      }
      const id = createIdentity(home, opts.name);
      const key = Buffer.from(id.signing.publicKey).toString('hex');
      if (opts.json) {
        printJson({ name: id.name, key });
      } else {
        printLine(`created the identity "${safeLine(id.name)}" in ${home}`);
        printLine(`public key ${key}`);
      }
    });
}
