// The notes commands of the CLI: `trellis notes show|import|append WS NOTE …`. Light on purpose
// (no Yjs, no zod): the CLI loads it on every start.
import type { ToolCommand, ToolInfo } from '../tool.ts';

export const NOTES_TYPE = 'notes';
/** Largest Markdown accepted at once (the API's request limit is 1 MiB of JSON). */
export const MAX_MARKDOWN_BYTES = 512 * 1024;

export type WriteMode = 'replace' | 'append';

function writeCommand(mode: WriteMode): ToolCommand {
  return {
    name: mode === 'replace' ? 'import' : 'append',
    description: mode === 'replace' ? 'replace the note with the content of a Markdown file' : 'add the content of a Markdown file at the end of the note',
    args: [{ name: 'file', description: 'Markdown file (UTF-8)' }],
    options: [{ flags: '--json', description: 'print {"blocks"} as JSON' }],
    async run(cli, [file], opts) {
      const markdown = cli.readText(file as string, MAX_MARKDOWN_BYTES);
      const r = await cli.post<{ blocks: number }>('/markdown', { markdown, mode });
      if (opts.json) cli.json({ blocks: r.blocks });
    },
  };
}

export const notesInfo: ToolInfo = {
  type: NOTES_TYPE,
  description: 'rich-text notes (Markdown in the CLI)',
  commands: [
    {
      name: 'show',
      description: 'print the note as Markdown',
      options: [
        { flags: '--at <time>', description: 'as it was at this ISO 8601 time (e.g. 2026-05-04T14:00Z)' },
        { flags: '--json', description: 'print {"markdown"} as JSON' },
      ],
      async run(cli, _args, opts) {
        const { markdown } = await cli.get<{ markdown: string }>('/markdown', { at: opts.at as string | undefined });
        if (opts.json) cli.json({ markdown });
        else if (markdown !== '') cli.print(markdown.replace(/\n$/, ''));
      },
    },
    writeCommand('replace'),
    writeCommand('append'),
  ],
};
