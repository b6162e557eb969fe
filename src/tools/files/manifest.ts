// The files manifest of a workspace: one Yjs document, replicated as signed, encrypted entries
// like every document, so the file keys inside it are as secret as the workspace.
//
// Shape: Y.Map 'versions', version id (16 random bytes, hex) → Y.Map {
//   name, version, size, chunkSize, chunkCount, chunks: Y.Array<sha256 hex of each sealed chunk>,
//   fileKey (hex), author (key hex), time (ms), deleted?: true, restoredFrom?: version id }.
// One map entry per version, under a fresh random key, rather than a map name → array of versions:
// two members adding the same new name while apart would each create the name's array, and Yjs
// keeps only one of two concurrent values of a map key, so a version would vanish. Unique keys
// never collide. The versions of a name are numbered 1… in the order (version, time, author, id):
// `version` is the number its author saw (previous count + 1), the rest breaks ties the same way on
// every replica.
//
// Anything in the document came from some member and is checked before use: a version with a field
// of the wrong type, a non-canonical name or an inconsistent size is ignored. Chunk lists are long
// and are written in batches (an entry holds at most 256 KiB), so a version counts only once its
// list is complete.
import * as Y from 'yjs';
import { concatBytes, fromHex, toHex, utf8 } from '../../core/bytes.ts';
import { hash } from '../../crypto/sodium.ts';
import type { DocAccess } from '../doc-access.ts';
import { MAX_CHUNK_SIZE } from './chunk-frames.ts';
import { isCanonicalName } from './paths.ts';

export const VERSIONS_MAP = 'versions';
/** Chunk hashes per entry: ~66 bytes each in a Yjs update, well under the 256 KiB entry limit. */
export const CHUNKS_PER_ENTRY = 1500;
const MIN_CHUNK_SIZE = 1024;
const HEX32 = /^[0-9a-f]{64}$/;
const ID = /^[0-9a-f]{32}$/;

/** The manifest document of a workspace: BLAKE2b-128("files" ‖ workspace id). */
export function filesDocId(workspaceHex: string): string {
  return toHex(hash(concatBytes([utf8.encode('files'), fromHex(workspaceHex)]), 16));
}

export interface FileVersion {
  /** Stable id of this version (hex). */
  id: string;
  name: string;
  /** 1-based number among the versions of its name. */
  version: number;
  size: number;
  chunkSize: number;
  chunkCount: number;
  fileKey: string;
  author: string;
  time: number;
  deleted: boolean;
  restoredFrom?: string;
  /** Read with chunksOf (the list is long: it is copied only when needed). */
  readonly chunkList: Y.Array<unknown>;
  /** The version number its author saw; used for ordering. */
  readonly claimed: number;
}

/** A consistent reading of the manifest: versions by name, each list oldest first. */
export class ManifestView {
  readonly byName = new Map<string, FileVersion[]>();
  readonly byId = new Map<string, FileVersion>();

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Versions of `name`, oldest first; empty if none. */
  versions(name: string): FileVersion[] {
    return this.byName.get(name) ?? [];
  }

  latest(name: string): FileVersion | undefined {
    const v = this.byName.get(name);
    return v?.[v.length - 1];
  }

  /** Names under a folder prefix ("a/b" matches "a/b/c" and "a/b/d/e", not "a/bc"). */
  under(prefix: string): string[] {
    const p = `${prefix}/`;
    return this.names().filter((n) => n.startsWith(p));
  }
}

function num(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : undefined;
}

function parseVersion(id: string, m: unknown): Omit<FileVersion, 'version'> | undefined {
  if (!ID.test(id) || !(m instanceof Y.Map)) return undefined;
  const name = m.get('name');
  const claimed = num(m.get('version'), 1, Number.MAX_SAFE_INTEGER);
  const size = num(m.get('size'), 0, Number.MAX_SAFE_INTEGER);
  const chunkSize = num(m.get('chunkSize'), MIN_CHUNK_SIZE, MAX_CHUNK_SIZE);
  const chunkCount = num(m.get('chunkCount'), 0, Number.MAX_SAFE_INTEGER);
  const fileKey = m.get('fileKey');
  const author = m.get('author');
  const time = num(m.get('time'), 0, Number.MAX_SAFE_INTEGER);
  const deleted = m.get('deleted') === true;
  const restoredFrom = m.get('restoredFrom');
  const chunks = m.get('chunks');
  if (!isCanonicalName(name) || claimed === undefined || size === undefined || chunkSize === undefined || chunkCount === undefined || time === undefined) return undefined;
  if (typeof author !== 'string' || !HEX32.test(author)) return undefined;
  if (!(chunks instanceof Y.Array)) return undefined;
  if (restoredFrom !== undefined && (typeof restoredFrom !== 'string' || !ID.test(restoredFrom))) return undefined;
  if (deleted) {
    if (size !== 0 || chunkCount !== 0) return undefined;
  } else {
    if (typeof fileKey !== 'string' || !HEX32.test(fileKey)) return undefined;
    if (chunkCount !== Math.ceil(size / chunkSize)) return undefined;
  }
  // Incomplete (still being written, or its author stopped half-way) or over-long: not a version.
  if (chunks.length !== chunkCount) return undefined;
  return {
    id, name, claimed, size, chunkSize, chunkCount, fileKey: typeof fileKey === 'string' ? fileKey : '', author, time, deleted,
    ...(restoredFrom !== undefined ? { restoredFrom } : {}), chunkList: chunks,
  };
}

function order(a: Omit<FileVersion, 'version'>, b: Omit<FileVersion, 'version'>): number {
  return a.claimed - b.claimed || a.time - b.time || cmp(a.author, b.author) || cmp(a.id, b.id);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function readManifest(doc: Y.Doc): ManifestView {
  const view = new ManifestView();
  const groups = new Map<string, Omit<FileVersion, 'version'>[]>();
  doc.getMap(VERSIONS_MAP).forEach((m, id) => {
    const v = parseVersion(id, m);
    if (!v) return;
    let g = groups.get(v.name);
    if (!g) { g = []; groups.set(v.name, g); }
    g.push(v);
  });
  for (const [name, g] of groups) {
    g.sort(order);
    const list = g.map((v, i) => ({ ...v, version: i + 1 }) as FileVersion);
    view.byName.set(name, list);
    for (const v of list) view.byId.set(v.id, v);
  }
  return view;
}

/** The chunk hashes of a version; throws if a member wrote something that is not a hash. */
export function chunksOf(v: FileVersion): string[] {
  const out = v.chunkList.toArray();
  if (out.length !== v.chunkCount) throw new Error('the chunk list changed');
  for (const h of out) if (typeof h !== 'string' || !HEX32.test(h)) throw new Error('the chunk list holds something that is not a SHA-256 hash');
  return out as string[];
}

export interface NewVersion {
  name: string;
  version: number;
  size: number;
  chunkSize: number;
  fileKey: string;
  author: string;
  time: number;
  deleted?: boolean;
  restoredFrom?: string;
}

/**
 * Writes a version: one entry with its fields and the first batch of chunk hashes, one more entry
 * per further batch. Returns the version id.
 */
export function writeVersion(docs: DocAccess, ws: string, docId: string, id: string, v: NewVersion, chunks: readonly string[]): void {
  if (!ID.test(id)) throw new Error('a version id is 16 bytes, hex');
  const chunkCount = v.deleted ? 0 : Math.ceil(v.size / v.chunkSize);
  if (chunks.length !== chunkCount) throw new Error('the chunk list does not match the size');
  let list: Y.Array<string> | undefined;
  docs.changeDoc(ws, docId, (doc) => {
    const versions = doc.getMap<Y.Map<unknown>>(VERSIONS_MAP);
    versions.set(id, new Y.Map<unknown>());
    const m = versions.get(id)!;
    m.set('name', v.name);
    m.set('version', v.version);
    m.set('size', v.size);
    m.set('chunkSize', v.chunkSize);
    m.set('chunkCount', chunkCount);
    m.set('fileKey', v.fileKey);
    m.set('author', v.author);
    m.set('time', v.time);
    if (v.deleted) m.set('deleted', true);
    if (v.restoredFrom !== undefined) m.set('restoredFrom', v.restoredFrom);
    m.set('chunks', new Y.Array<string>());
    list = m.get('chunks') as Y.Array<string>;
    list.push(chunks.slice(0, CHUNKS_PER_ENTRY) as string[]);
  });
  for (let i = CHUNKS_PER_ENTRY; i < chunks.length; i += CHUNKS_PER_ENTRY) {
    docs.changeDoc(ws, docId, () => { list!.push(chunks.slice(i, i + CHUNKS_PER_ENTRY) as string[]); });
  }
}
