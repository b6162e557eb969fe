// Entry point of the `trellis` command (bin/trellis.mjs, `npm start`).
// Start-up time matters for a command people type often, so this file stays tiny: it turns on
// Node's on-disk compile cache (V8 code and stripped TypeScript, in the OS temp dir; honours
// NODE_DISABLE_COMPILE_CACHE), then loads the rest, which the cache then covers.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();

// `trellis chat log | head` closes stdout early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const { runCli } = await import('./program.ts');
process.exitCode = await runCli(process.argv.slice(2));
