// Chat: the first tool. A message is an immutable entry {text}; every replica orders messages by
// (Lamport clock, author key, seq), a total order that respects causality, so all logs agree.
import { utf8 } from '../../core/bytes.ts';
import { EntryKind } from '../../core/entry.ts';
import { MAX_CHAT_BYTES } from '../../core/limits.ts';
import type { AuthorInfo, ContentHandler, EntryContext } from '../../workspace/content-handler.ts';

export interface ChatMessage {
  /** `<author hex>:<seq>`, unique in the workspace. */
  id: string;
  author: string;
  authorName: string;
  text: string;
  /** Author's clock, ms since the Unix epoch. */
  time: number;
}

interface Ordered extends ChatMessage { clock: number; seq: number }

export function encodeChat(text: string): Uint8Array {
  return utf8.encode(JSON.stringify({ text }));
}

/** Why `text` cannot be sent, or undefined. Shared by the API and the entry check. */
export function refuseChatText(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'the message must be a string';
  if (text.trim().length === 0) return 'the message is empty';
  const n = utf8.encode(text).byteLength;
  if (n > MAX_CHAT_BYTES) return `the message is ${n} bytes; the limit is ${MAX_CHAT_BYTES}`;
  return undefined;
}

function parse(plain: Uint8Array): { text: string } | string {
  let o: unknown;
  try { o = JSON.parse(utf8.decode(plain)); } catch { return 'chat payload is not JSON'; }
  if (typeof o !== 'object' || o === null) return 'chat payload is not an object';
  const text = (o as { text?: unknown }).text;
  const why = refuseChatText(text);
  return why ?? { text: text as string };
}

export class ChatTool implements ContentHandler {
  readonly kind = EntryKind.chat;
  private readonly logs = new Map<string, Ordered[]>();
  private readonly onMessage: (workspaceHex: string, m: ChatMessage) => void;

  constructor(onMessage: (workspaceHex: string, m: ChatMessage) => void = () => {}) {
    this.onMessage = onMessage;
  }

  check(plain: Uint8Array, _author: AuthorInfo): string | undefined {
    const p = parse(plain);
    return typeof p === 'string' ? p : undefined;
  }

  apply(ctx: EntryContext, plain: Uint8Array): void {
    const p = parse(plain);
    if (typeof p === 'string') return;
    const m: Ordered = {
      id: `${ctx.author.keyHex}:${ctx.seq}`, author: ctx.author.keyHex, authorName: ctx.author.name,
      text: p.text, time: ctx.time, clock: ctx.clock, seq: ctx.seq,
    };
    let log = this.logs.get(ctx.workspaceHex);
    if (!log) { log = []; this.logs.set(ctx.workspaceHex, log); }
    // Messages mostly arrive in order: insert from the end.
    let i = log.length;
    while (i > 0 && before(m, log[i - 1])) i--;
    log.splice(i, 0, m);
    this.onMessage(ctx.workspaceHex, strip(m));
  }

  reset(workspaceHex: string): void {
    this.logs.delete(workspaceHex);
  }

  log(workspaceHex: string): ChatMessage[] {
    return (this.logs.get(workspaceHex) ?? []).map(strip);
  }
}

function before(a: Ordered, b: Ordered): boolean {
  if (a.clock !== b.clock) return a.clock < b.clock;
  if (a.author !== b.author) return a.author < b.author;
  return a.seq < b.seq;
}

function strip(m: Ordered): ChatMessage {
  return { id: m.id, author: m.author, authorName: m.authorName, text: m.text, time: m.time };
}
