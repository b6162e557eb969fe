// In-memory DocAccess replicas of one workspace, for fast tool tests: each member has its own
// documents and log of changes (one Yjs update each, like entries); `sync` exchanges the changes
// two replicas lack, as sync sessions would. The real Peer is exercised in tools-peers.test.ts.
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';
import { TrellisError } from '../../src/core/errors.ts';
import type { Role } from '../../src/core/membership.ts';
import type { DocAccess, DocMember, HistoryItem } from '../../src/tools/doc-access.ts';
import { REGISTRY_DOC_ID } from '../../src/tools/docs/doc-tool.ts';

export const WS = 'ab'.repeat(16);
export const WS_NAME = 'Team';

interface Change { id: string; author: string; seq: number; time: number; doc: string; update: Uint8Array }

export class MemoryReplica implements DocAccess {
  readonly keyHex: string;
  readonly name: string;
  readonly members: DocMember[];
  readonly docs = new Map<string, Y.Doc>();
  readonly log: Change[] = [];
  private seq = 0;
  private readonly listeners = new Set<(ws: string, doc: string) => void>();
  /** Time source for changes (tests of time travel set it). */
  now: () => number = () => Date.now();

  constructor(name: string, members: DocMember[], key: string) {
    this.name = name;
    this.members = members;
    this.keyHex = key;
  }

  resolveWorkspace(idOrName: string): string {
    if (idOrName === WS || idOrName === WS_NAME) return WS;
    throw new TrellisError('not-found', `no workspace "${idOrName}"`);
  }

  doc(ws: string, docIdHex: string): Y.Doc {
    this.resolveWorkspace(ws);
    if (!/^[0-9a-f]{32}$/.test(docIdHex)) throw new TrellisError('invalid', 'a document id is 32 lowercase hex characters');
    let d = this.docs.get(docIdHex);
    if (!d) { d = new Y.Doc(); this.docs.set(docIdHex, d); }
    return d;
  }

  changeDoc(ws: string, docIdHex: string, change: (doc: Y.Doc) => void): void {
    const role = this.role(ws);
    if (role === 'guest') throw new TrellisError('forbidden', 'as a guest you may not write documents');
    if (docIdHex === REGISTRY_DOC_ID && role !== 'manager') throw new TrellisError('forbidden', 'only managers may add or remove tools');
    const d = this.doc(ws, docIdHex);
    const updates: Uint8Array[] = [];
    const capture = (u: Uint8Array, origin: unknown) => { if (origin === this) updates.push(u); };
    d.on('update', capture);
    try { d.transact(() => change(d), this); } finally { d.off('update', capture); }
    if (updates.length === 0) return;
    this.seq++;
    this.log.push({ id: `${this.keyHex}:${this.seq}`, author: this.keyHex, seq: this.seq, time: this.now(), doc: docIdHex, update: Y.mergeUpdates(updates) });
    for (const l of this.listeners) l(WS, docIdHex);
  }

  receive(c: Change): void {
    if (this.log.some((x) => x.id === c.id)) return;
    this.log.push(c);
    Y.applyUpdate(this.doc(WS, c.doc), c.update, 'remote');
    for (const l of this.listeners) l(WS, c.doc);
  }

  role(ws: string): Role {
    this.resolveWorkspace(ws);
    const me = this.members.find((m) => m.key === this.keyHex);
    if (!me) throw new TrellisError('forbidden', 'not a member');
    return me.role;
  }

  memberList(ws: string): DocMember[] {
    this.resolveWorkspace(ws);
    return this.members.map((m) => ({ ...m }));
  }

  history(ws: string): HistoryItem[] {
    this.resolveWorkspace(ws);
    return this.log.map((c) => ({ id: c.id, author: c.author, authorName: this.members.find((m) => m.key === c.author)?.name ?? '', kind: 'doc' as const, doc: c.doc, time: c.time }));
  }

  docAt(ws: string, docIdHex: string, until: number): Y.Doc {
    this.resolveWorkspace(ws);
    const d = new Y.Doc();
    for (const c of this.log) if (c.doc === docIdHex && c.time <= until) Y.applyUpdate(d, c.update);
    return d;
  }

  onDocChange(listener: (ws: string, docIdHex: string) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
}

/** Replicas of one workspace, one per member (the first is usually the manager). */
export function memoryWorkspace(...people: { name: string; role: Role }[]): MemoryReplica[] {
  const members: DocMember[] = people.map((p) => ({ name: p.name, role: p.role, key: randomBytes(32).toString('hex') }));
  return members.map((m) => new MemoryReplica(m.name, members, m.key));
}

/** Exchanges the changes either replica lacks, in each one's log order (causal). */
export function sync(...replicas: MemoryReplica[]): void {
  for (const a of replicas) for (const b of replicas) if (a !== b) for (const c of [...a.log]) b.receive(c);
}

/** Same content and same Yjs state (state vectors and full state bytes). */
export function sameState(a: Y.Doc, b: Y.Doc): boolean {
  const eq = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
  return eq(Y.encodeStateVector(a), Y.encodeStateVector(b)) && eq(Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b));
}
