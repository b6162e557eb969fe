// Discussion: threaded topics beside the flat chat, with reactions and unread markers.
//
// Document shape (one Yjs document per discussion board):
//   Y.Map 'topics': topic id (16 hex) → Y.Map {
//     title: string, author: key hex, time: ms,
//     replies: Y.Array<{ id: 16 hex, author, text, time, parent: reply id or '' }>   (the first
//              reply is the topic's opening post),
//     reactions: Y.Map<reply id → Y.Map<member key → Y.Map<emoji → ms>>> }
//   Y.Map 'read': member key → Y.Map<topic id → { seen: posts by others when read, time: ms }>
//
// Every nested Y type has exactly one writer when it is created: a topic's arrays and maps by its
// author, a reply's reaction map by the replier, a member's own reaction and read maps by that
// member. Yjs resolves two concurrent creations of one map key to one of them, dropping the other's
// content, so a shared "emoji → members" map would lose reactions added at the same time; keying
// by member first avoids that. The tool only ever writes the caller's own key under 'read' and
// in reactions (a member's software could write others', but only to mislead about itself).
//
// Unread count for a member = posts by others − posts by others when they last marked the topic
// read. Replies are never deleted, so the count only grows and is exact.
import * as Y from 'yjs';
import { z } from 'zod';
import { TrellisError } from '../../core/errors.ts';
import { findItemId, isItemId, newItemId } from '../common/ids.ts';
import { memberNames } from '../common/members.ts';
import { cleanText, num, str } from '../common/text.ts';
import type { DocAccess } from '../doc-access.ts';
import { addToolInstance } from '../registry/tool-list.ts';
import { toolRoute, type Tool } from '../tool.ts';
import { discussionInfo } from './discussion-cli.ts';
import { DISCUSSION_TYPE, type Reply, type Topic, type TopicSummary } from './topic.ts';

const TITLE = { max: 500 };
const TEXT = { max: 16 * 1024, multiline: true };
const TOPIC_HINT = '`trellis discussion show WS TOOL`';

const topicsOf = (doc: Y.Doc) => doc.getMap<unknown>('topics');
const readOf = (doc: Y.Doc) => doc.getMap<unknown>('read');

interface RawReply { id: string; author: string; text: string; time: number; parent: string }

function rawReplies(topic: Y.Map<unknown>): RawReply[] {
  const replies = topic.get('replies');
  if (!(replies instanceof Y.Array)) return [];
  return replies.toArray().flatMap((r) => {
    if (typeof r !== 'object' || r === null) return [];
    const o = r as Record<string, unknown>;
    if (!isItemId(o.id)) return [];
    return [{ id: o.id, author: str(o.author), text: str(o.text), time: num(o.time), parent: isItemId(o.parent) ? o.parent : '' }];
  });
}

function reactionsOf(topic: Y.Map<unknown>, replyId: string): Record<string, string[]> {
  const all = topic.get('reactions');
  const byMember = all instanceof Y.Map ? all.get(replyId) : undefined;
  const out: Record<string, string[]> = {};
  if (!(byMember instanceof Y.Map)) return out;
  for (const [member, emojis] of byMember.entries()) {
    if (!(emojis instanceof Y.Map)) continue;
    for (const emoji of emojis.keys()) (out[emoji] ??= []).push(member);
  }
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}

function seenBy(doc: Y.Doc, me: string, topicId: string): number {
  const mine = readOf(doc).get(me);
  const entry = mine instanceof Y.Map ? mine.get(topicId) : undefined;
  return typeof entry === 'object' && entry !== null ? num((entry as Record<string, unknown>).seen) : 0;
}

function summary(doc: Y.Doc, id: string, t: Y.Map<unknown>, me: string, names: Map<string, string>): TopicSummary {
  const replies = rawReplies(t);
  const byOthers = replies.filter((r) => r.author !== me).length;
  const author = str(t.get('author'));
  return {
    id, title: str(t.get('title')), author, authorName: names.get(author) ?? '', time: num(t.get('time')),
    posts: replies.length, unread: Math.max(0, byOthers - seenBy(doc, me, id)),
    lastTime: Math.max(num(t.get('time')), ...replies.map((r) => r.time)),
  };
}

/** Topics, most recently active first, with my unread counts. */
export function readTopics(doc: Y.Doc, me: string, names: Map<string, string> = new Map()): TopicSummary[] {
  const out: TopicSummary[] = [];
  for (const [id, t] of topicsOf(doc).entries()) {
    if (isItemId(id) && t instanceof Y.Map) out.push(summary(doc, id, t as Y.Map<unknown>, me, names));
  }
  return out.sort((a, b) => b.lastTime - a.lastTime || (a.id < b.id ? -1 : 1));
}

export function readTopic(doc: Y.Doc, id: string, me: string, names: Map<string, string> = new Map()): Topic {
  const t = topicsOf(doc).get(id) as Y.Map<unknown>;
  return {
    ...summary(doc, id, t, me, names),
    replies: rawReplies(t).map((r) => ({ ...r, authorName: names.get(r.author) ?? '', reactions: reactionsOf(t, r.id) })),
  };
}

function topicId(doc: Y.Doc, ref: string): string {
  const topics = topicsOf(doc);
  return findItemId([...topics.keys()].filter((k) => topics.get(k) instanceof Y.Map), ref, 'topic', TOPIC_HINT);
}

export function listTopics(access: DocAccess, ws: string, board: string): TopicSummary[] {
  return readTopics(access.doc(ws, board), access.keyHex, memberNames(access, ws));
}

export function showTopic(access: DocAccess, ws: string, board: string, ref: string): Topic {
  const doc = access.doc(ws, board);
  return readTopic(doc, topicId(doc, ref), access.keyHex, memberNames(access, ws));
}

function newReply(author: string, text: string, parent: string): RawReply {
  return { id: newItemId(), author, text, time: Date.now(), parent };
}

export function newTopic(access: DocAccess, ws: string, board: string, title: string, text: string): Topic {
  const cleanTitle = cleanText('the title', title, TITLE);
  const first = newReply(access.keyHex, cleanText('the text', text, TEXT), '');
  const id = newItemId();
  access.changeDoc(ws, board, (d) => {
    const t = new Y.Map<unknown>();
    t.set('title', cleanTitle);
    t.set('author', access.keyHex);
    t.set('time', first.time);
    const replies = new Y.Array<unknown>();
    replies.push([first]);
    t.set('replies', replies);
    const reactions = new Y.Map<unknown>();
    reactions.set(first.id, new Y.Map());
    t.set('reactions', reactions);
    topicsOf(d).set(id, t);
  });
  return showTopic(access, ws, board, id);
}

export function replyTo(access: DocAccess, ws: string, board: string, ref: string, text: string, parentRef?: string): Reply {
  const doc = access.doc(ws, board);
  const id = topicId(doc, ref);
  const t = topicsOf(doc).get(id) as Y.Map<unknown>;
  const parent = parentRef === undefined || parentRef === '' ? '' : findItemId(rawReplies(t).map((r) => r.id), parentRef, 'reply', `\`trellis discussion show WS TOOL ${id}\``);
  const reply = newReply(access.keyHex, cleanText('the reply', text, TEXT), parent);
  access.changeDoc(ws, board, (d) => {
    const topic = topicsOf(d).get(id) as Y.Map<unknown>;
    let replies = topic.get('replies');
    if (!(replies instanceof Y.Array)) { replies = new Y.Array(); topic.set('replies', replies); }
    (replies as Y.Array<unknown>).push([reply]);
    const reactions = topic.get('reactions');
    if (reactions instanceof Y.Map) reactions.set(reply.id, new Y.Map());
  });
  return { ...reply, authorName: memberNames(access, ws).get(access.keyHex) ?? '', reactions: {} };
}

/** An emoji or short symbol: no spaces or control characters, at most 8 characters (graphemes may take several). */
function checkEmoji(e: string): string {
  const s = typeof e === 'string' ? e.trim() : '';
  if (s === '' || s.length > 16 || /[\s\u0000-\u001f\u007f-\u009f]/u.test(s)) throw new TrellisError('invalid', 'a reaction is one emoji or a short symbol without spaces, e.g. 👍');
  return s;
}

/** Adds (or with `remove`, takes back) my reaction to a reply. */
export function react(access: DocAccess, ws: string, board: string, ref: string, replyRef: string, emoji: string, remove = false): Reply {
  const doc = access.doc(ws, board);
  const id = topicId(doc, ref);
  const t = topicsOf(doc).get(id) as Y.Map<unknown>;
  const replyId = findItemId(rawReplies(t).map((r) => r.id), replyRef, 'reply', `\`trellis discussion show WS TOOL ${id}\``);
  const e = checkEmoji(emoji);
  const me = access.keyHex;
  access.changeDoc(ws, board, (d) => {
    const topic = topicsOf(d).get(id) as Y.Map<unknown>;
    let all = topic.get('reactions');
    if (!(all instanceof Y.Map)) { all = new Y.Map(); topic.set('reactions', all); }
    const reactions = all as Y.Map<unknown>;
    let byMember = reactions.get(replyId);
    if (!(byMember instanceof Y.Map)) { byMember = new Y.Map(); reactions.set(replyId, byMember); }
    const members = byMember as Y.Map<unknown>;
    let mine = members.get(me);
    if (!(mine instanceof Y.Map)) {
      if (remove) return;
      mine = new Y.Map();
      members.set(me, mine);
    }
    const emojis = mine as Y.Map<unknown>;
    if (remove) emojis.delete(e);
    else if (!emojis.has(e)) emojis.set(e, Date.now());
  });
  return showTopic(access, ws, board, id).replies.find((r) => r.id === replyId)!;
}

/** Marks a topic read for me (only my own read state is ever written). */
export function markRead(access: DocAccess, ws: string, board: string, ref: string): TopicSummary {
  const doc = access.doc(ws, board);
  const id = topicId(doc, ref);
  const me = access.keyHex;
  const byOthers = rawReplies(topicsOf(doc).get(id) as Y.Map<unknown>).filter((r) => r.author !== me).length;
  if (seenBy(doc, me, id) !== byOthers) {
    access.changeDoc(ws, board, (d) => {
      const read = readOf(d);
      let mine = read.get(me);
      if (!(mine instanceof Y.Map)) { mine = new Y.Map(); read.set(me, mine); }
      (mine as Y.Map<unknown>).set(id, { seen: byOthers, time: Date.now() });
    });
  }
  const { replies: _replies, ...rest } = showTopic(access, ws, board, id);
  return rest;
}

// ---- API ----

const routes = [
  toolRoute({
    method: 'GET',
    path: '/topics',
    handle: ({ access, ws, instance }) => listTopics(access, ws, instance.id),
  }),
  toolRoute({
    method: 'POST',
    path: '/topics',
    body: z.object({ title: z.string(), text: z.string() }),
    status: 201,
    handle: ({ access, ws, instance, body }) => newTopic(access, ws, instance.id, body.title, body.text),
  }),
  toolRoute({
    method: 'GET',
    path: '/topics/:topic',
    handle: ({ access, ws, instance, params }) => showTopic(access, ws, instance.id, params.topic),
  }),
  toolRoute({
    method: 'POST',
    path: '/topics/:topic/replies',
    body: z.object({ text: z.string(), parent: z.string().optional() }),
    status: 201,
    handle: ({ access, ws, instance, params, body }) => replyTo(access, ws, instance.id, params.topic, body.text, body.parent),
  }),
  toolRoute({
    method: 'POST',
    path: '/topics/:topic/reactions',
    body: z.object({ reply: z.string(), emoji: z.string(), remove: z.boolean().optional() }),
    handle: ({ access, ws, instance, params, body }) => react(access, ws, instance.id, params.topic, body.reply, body.emoji, body.remove ?? false),
  }),
  toolRoute({
    method: 'POST',
    path: '/topics/:topic/read',
    body: z.object({}),
    handle: ({ access, ws, instance, params }) => markRead(access, ws, instance.id, params.topic),
  }),
];

export const discussionTool: Tool = {
  ...discussionInfo,
  create: (access, ws, name) => addToolInstance(access, ws, DISCUSSION_TYPE, name),
  routes,
};
