// The discussion commands of the CLI: `trellis discussion new|reply|react|show|read WS TOOL …`.
// Light on purpose (no Yjs, no zod): the CLI loads it on every start.
import type { ToolCli, ToolInfo } from '../tool.ts';
import { DISCUSSION_TYPE, type Reply, type Topic, type TopicSummary } from './topic.ts';

const words = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));
const path = (topic: unknown, rest = '') => `/topics/${encodeURIComponent(String(topic))}${rest}`;

function printThread(cli: ToolCli, t: Topic): void {
  cli.print(`${t.title}  (${t.posts} posts, ${t.unread} unread)`);
  const children = new Map<string, Reply[]>();
  const ids = new Set(t.replies.map((r) => r.id));
  for (const r of t.replies) {
    const parent = r.parent !== '' && ids.has(r.parent) ? r.parent : '';
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const visit = (parent: string, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const pad = '  '.repeat(depth + 1);
      const reactions = Object.entries(r.reactions).map(([e, who]) => `${e} ${who.length}`).join('  ');
      cli.print(`${pad}${r.id}  ${cli.time(r.time)}  ${(r.authorName || r.author.slice(0, 12)).replace(/\s+/g, ' ')}${reactions ? '  ' + reactions : ''}`);
      cli.print(r.text.split('\n').map((l) => `${pad}  ${l}`).join('\n'));
      visit(r.id, depth + 1);
    }
  };
  visit('', 0);
}

export const discussionInfo: ToolInfo = {
  type: DISCUSSION_TYPE,
  description: 'threaded discussions with reactions and unread markers',
  commands: [
    {
      name: 'new',
      description: 'start a topic',
      args: [{ name: 'title', description: 'topic title' }, { name: 'text', description: 'the opening post (several words are joined)', variadic: true }],
      options: [{ flags: '--json', description: 'print the topic as JSON' }],
      async run(cli, [title, text], opts) {
        const t = await cli.post<Topic>('/topics', { title, text: words(text) });
        if (opts.json) cli.json(t);
        else cli.print(t.id);
      },
    },
    {
      name: 'reply',
      description: 'reply to a topic, or with --to to one of its replies',
      args: [{ name: 'topic', description: 'topic id (or its first characters)' }, { name: 'text', description: 'the reply (several words are joined)', variadic: true }],
      options: [{ flags: '--to <reply>', description: 'the reply this one answers' }, { flags: '--json', description: 'print the reply as JSON' }],
      async run(cli, [topic, text], opts) {
        const r = await cli.post<Reply>(path(topic, '/replies'), { text: words(text), parent: opts.to });
        if (opts.json) cli.json(r);
        else cli.print(r.id);
      },
    },
    {
      name: 'react',
      description: 'react to a reply with an emoji',
      args: [{ name: 'topic', description: 'topic id' }, { name: 'reply', description: 'reply id' }, { name: 'emoji', description: 'e.g. 👍' }],
      options: [{ flags: '--remove', description: 'take the reaction back' }, { flags: '--json', description: 'print the reply as JSON' }],
      async run(cli, [topic, reply, emoji], opts) {
        const r = await cli.post<Reply>(path(topic, '/reactions'), { reply, emoji, remove: opts.remove === true });
        if (opts.json) cli.json(r);
      },
    },
    {
      name: 'show',
      description: 'list the topics with unread counts, or show one topic as a thread',
      args: [{ name: 'topic', description: 'topic id', optional: true }],
      options: [{ flags: '--json', description: 'machine-readable output' }],
      async run(cli, [topic], opts) {
        if (topic !== undefined) {
          const t = await cli.get<Topic>(path(topic));
          if (opts.json) cli.json(t);
          else printThread(cli, t);
          return;
        }
        const list = await cli.get<TopicSummary[]>('/topics');
        if (opts.json) cli.json(list);
        else if (list.length === 0) cli.print('no topics yet: start one with `trellis discussion new WS TOOL TITLE TEXT`');
        else cli.table(list.map((t) => [t.id, String(t.unread), String(t.posts), cli.time(t.lastTime), t.authorName || t.author.slice(0, 12), t.title]), ['ID', 'UNREAD', 'POSTS', 'ACTIVE', 'BY', 'TITLE']);
      },
    },
    {
      name: 'read',
      description: 'mark a topic read',
      args: [{ name: 'topic', description: 'topic id' }],
      options: [{ flags: '--json', description: 'print the topic summary as JSON' }],
      async run(cli, [topic], opts) {
        const s = await cli.post<TopicSummary>(path(topic, '/read'), {});
        if (opts.json) cli.json(s);
      },
    },
  ],
};
