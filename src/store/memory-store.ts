// Store in memory: for tests and benchmarks of upper layers. Same contract as SqliteStore.
import { toHex } from '../core/bytes.ts';
import type { EntryRow, HeadRow, InviteRow, Store } from './store.ts';

interface Log { author: Uint8Array; rows: { hash: Uint8Array; bytes: Uint8Array; order: number }[] }

export class MemoryStore implements Store {
  private readonly workspaces = new Map<string, { id: Uint8Array; keys: Map<number, Uint8Array>; logs: Map<string, Log>; order: Uint8Array[] }>();
  private readonly invites = new Map<string, InviteRow>();
  private readonly addrs = new Map<string, { key: Uint8Array; addrs: string[] }>();
  private nextOrder = 1;

  private ws(id: Uint8Array) {
    const w = this.workspaces.get(toHex(id));
    if (!w) throw new Error('unknown workspace');
    return w;
  }

  addWorkspace(id: Uint8Array): void {
    const k = toHex(id);
    if (!this.workspaces.has(k)) this.workspaces.set(k, { id, keys: new Map(), logs: new Map(), order: [] });
  }

  workspaceIds(): Uint8Array[] { return [...this.workspaces.values()].map((w) => w.id); }

  removeWorkspace(id: Uint8Array): void {
    const prefix = toHex(id);
    this.workspaces.delete(prefix);
    for (const k of [...this.forkProofs.keys()]) if (k.startsWith(prefix)) this.forkProofs.delete(k);
    for (const [k, i] of [...this.invites]) if (toHex(i.workspace) === prefix) this.invites.delete(k);
  }

  putKey(workspace: Uint8Array, epoch: number, sealedKey: Uint8Array): void { this.ws(workspace).keys.set(epoch, sealedKey); }

  keys(workspace: Uint8Array): { epoch: number; sealedKey: Uint8Array }[] {
    return [...this.ws(workspace).keys].sort((a, b) => a[0] - b[0]).map(([epoch, sealedKey]) => ({ epoch, sealedKey }));
  }

  appendEntries(workspace: Uint8Array, rows: EntryRow[], _durable?: boolean): void {
    const w = this.ws(workspace);
    // Check everything first so a bad row leaves nothing half-applied, as a transaction would.
    const next = new Map<string, number>();
    for (const r of rows) {
      const k = toHex(r.author);
      const expect = (next.get(k) ?? w.logs.get(k)?.rows.length ?? 0) + 1;
      if (r.seq !== expect) throw new Error(`entry ${k}:${r.seq} does not extend its log (expected seq ${expect})`);
      next.set(k, r.seq);
    }
    for (const r of rows) {
      const k = toHex(r.author);
      let log = w.logs.get(k);
      if (!log) { log = { author: r.author, rows: [] }; w.logs.set(k, log); }
      log.rows.push({ hash: r.hash, bytes: r.bytes, order: this.nextOrder++ });
      w.order.push(r.bytes);
    }
  }

  heads(workspace: Uint8Array): HeadRow[] {
    return [...this.ws(workspace).logs.values()].filter((l) => l.rows.length > 0)
      .map((l) => ({ author: l.author, seq: l.rows.length, hash: l.rows[l.rows.length - 1].hash }));
  }

  hashAt(workspace: Uint8Array, author: Uint8Array, seq: number): Uint8Array | undefined {
    return this.ws(workspace).logs.get(toHex(author))?.rows[seq - 1]?.hash;
  }

  allEntries(workspace: Uint8Array): Iterable<Uint8Array> { return [...this.ws(workspace).order]; }

  readAfter(workspace: Uint8Array, author: Uint8Array, afterSeq: number, limit: number): { seq: number; order: number; bytes: Uint8Array }[] {
    const log = this.ws(workspace).logs.get(toHex(author));
    if (!log) return [];
    return log.rows.slice(afterSeq, afterSeq + limit).map((r, i) => ({ seq: afterSeq + i + 1, order: r.order, bytes: r.bytes }));
  }

  private readonly forkProofs = new Map<string, { author: Uint8Array; seq: number; a: Uint8Array; b: Uint8Array }>();

  putFork(workspace: Uint8Array, author: Uint8Array, seq: number, a: Uint8Array, b: Uint8Array): void {
    const k = toHex(workspace) + toHex(author);
    if (!this.forkProofs.has(k)) this.forkProofs.set(k, { author, seq, a, b });
  }

  forks(workspace: Uint8Array): { author: Uint8Array; seq: number; a: Uint8Array; b: Uint8Array }[] {
    const prefix = toHex(workspace);
    return [...this.forkProofs].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v);
  }

  putInvite(i: InviteRow): void {
    const k = toHex(i.id);
    if (this.invites.has(k)) throw new Error('invitation exists');
    this.invites.set(k, { ...i });
  }

  getInvite(id: Uint8Array): InviteRow | undefined {
    const i = this.invites.get(toHex(id));
    return i ? { ...i } : undefined;
  }

  invitesOf(workspace: Uint8Array): InviteRow[] {
    const ws = toHex(workspace);
    return [...this.invites.values()].filter((i) => toHex(i.workspace) === ws).map((i) => ({ ...i })).sort((a, b) => a.expires - b.expires);
  }

  useInvite(id: Uint8Array, by: Uint8Array): boolean {
    const i = this.invites.get(toHex(id));
    if (!i || i.usedBy) return false;
    i.usedBy = by;
    return true;
  }

  setPeerAddrs(peerKey: Uint8Array, addrs: string[]): void { this.addrs.set(toHex(peerKey), { key: peerKey, addrs: [...addrs] }); }

  peerAddrs(): { key: Uint8Array; addrs: string[] }[] { return [...this.addrs.values()]; }

  close(): void {}
}
