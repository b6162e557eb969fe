// This device's files settings: per workspace, fetch on demand (default) or keep all. A choice of
// each member for their own device, so it lives in <home>/files/settings.json, not in the shared
// manifest. Written to a temporary file and renamed, so a crash leaves the old or the new file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type FetchPolicy = 'on-demand' | 'keep-all';
export const FETCH_POLICIES: readonly FetchPolicy[] = ['on-demand', 'keep-all'];

export function isFetchPolicy(v: unknown): v is FetchPolicy {
  return v === 'on-demand' || v === 'keep-all';
}

const WS_ID = /^[0-9a-f]{32}$/;

export class FilesSettings {
  private readonly file: string;
  private readonly policies = new Map<string, FetchPolicy>();

  constructor(dir: string, log: (line: string) => void) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'settings.json');
    if (!existsSync(this.file)) return;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as { policies?: Record<string, unknown> };
      for (const [ws, p] of Object.entries(raw.policies ?? {})) if (WS_ID.test(ws) && isFetchPolicy(p)) this.policies.set(ws, p);
    } catch (err) {
      log(`files: ignoring unreadable ${this.file}: ${(err as Error).message}`);
    }
  }

  policy(ws: string): FetchPolicy {
    return this.policies.get(ws) ?? 'on-demand';
  }

  /** Workspaces set to keep-all. */
  keepAll(): string[] {
    return [...this.policies].filter(([, p]) => p === 'keep-all').map(([ws]) => ws);
  }

  set(ws: string, policy: FetchPolicy): void {
    if (policy === 'on-demand') this.policies.delete(ws);
    else this.policies.set(ws, policy);
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: 1, policies: Object.fromEntries(this.policies) }, null, 2) + '\n', { mode: 0o600 });
    renameSync(temp, this.file);
  }
}
