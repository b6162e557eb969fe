#!/usr/bin/env node
// Entry point for `npx trellis`: the CLI is TypeScript run directly by Node 24 (type stripping).
// The compile cache (V8 code and stripped TypeScript) halves start-up of the often-typed commands.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('../src/cli/main.ts');
