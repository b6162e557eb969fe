// `trellis chat send WS TEXT` and `trellis chat log WS`.
import type { Command } from 'commander';
import { MAX_CHAT_BYTES, type ChatMessage } from '../../peer-api.ts';
import { connectApi, seg } from '../api-client.ts';
import { CliError, EXIT_USAGE } from '../cli-error.ts';
import { homeOf } from '../home.ts';
import { formatTime, printJson, printLine, safe, safeLine } from '../output.ts';
import { WORKSPACE_HINT } from './invitations.ts';

const toJson = (m: ChatMessage) => ({ id: m.id, author: m.author, authorName: m.authorName, text: m.text, time: m.time });

export function registerChat(program: Command): void {
  const chat = program.command('chat').description('the chat of a workspace');

  chat.command('send')
    .description('send a chat message')
    .argument('<ws>', 'workspace id or name')
    .argument('<text...>', 'the message (several words are joined with spaces)')
    .option('--json', 'print the sent message as JSON')
    .action(async (ws: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      const text = words.join(' ');
      // Checked here too, so an oversized message fails fast and even without a daemon.
      if (text.trim() === '') throw new CliError(EXIT_USAGE, 'the message is empty: write something to send');
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > MAX_CHAT_BYTES) {
        throw new CliError(EXIT_USAGE, `the message is ${bytes} bytes, over the limit of ${MAX_CHAT_BYTES} bytes: shorten it or send it in parts`);
      }
      const sent = await connectApi(homeOf(cmd)).post<ChatMessage>(`/api/workspaces/${seg(ws)}/chat`, { text }, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) printJson(toJson(sent));
    });

  chat.command('log')
    .description('print the chat history, oldest first')
    .argument('<ws>', 'workspace id or name')
    .option('--json', 'machine-readable output')
    .action(async (ws: string, opts: { json?: boolean }, cmd: Command) => {
      const log = await connectApi(homeOf(cmd)).get<ChatMessage[]>(`/api/workspaces/${seg(ws)}/chat`, { notFoundHint: WORKSPACE_HINT });
      if (opts.json) {
        printJson(log.map(toJson));
        return;
      }
      for (const m of log) {
        // Continuation lines are indented so each message stays visibly one block.
        printLine(`${formatTime(m.time)}  ${safeLine(m.authorName)}: ${safe(m.text.replace(/\r\n?/g, '\n')).replace(/\n/g, '\n    ')}`);
      }
    });
}
