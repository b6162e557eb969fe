// The Tool interface: what every tool type (notes, tasks, calendar, discussion, …) declares so the
// daemon and the CLI can serve it without knowing it. Adding a tool is adding one folder under
// src/tools/ and one line in each of registry/tool-types.ts (daemon) and registry/tool-infos.ts
// (CLI). Layering keeps tools below the daemon and the CLI, so a tool describes its routes and
// commands here in its own terms; src/daemon/routes/tools.ts mounts the routes and
// src/cli/commands/tools.ts registers the commands, for every listed tool.
//
// A tool folder holds `<tool>-cli.ts` (its ToolInfo: commands), `<tool>-tool.ts` (the Tool: the
// document operations and routes) and whatever they share.
//
// Each instance of a tool is one Yjs document whose id is the instance id (16 bytes, 32 hex); the
// workspace's tool list (registry/tool-list.ts) maps instance ids to {type, name}. Tools change
// their documents only through DocAccess.changeDoc, so every change is one signed entry, and read
// them through pure functions over a Y.Doc, so time travel (DocAccess.docAt) reads the same way.
import type { z } from 'zod';
import type { DocAccess } from './doc-access.ts';

/** A tool instance as listed in the workspace's tool list. */
export interface ToolInstance {
  /** 32 hex: also the id of the instance's document. */
  id: string;
  type: string;
  name: string;
  /** Key (hex) of the manager who added it. */
  createdBy: string;
  createdAt: number;
}

export type ToolMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a tool route handler gets: the workspace and instance are resolved and checked already. */
export interface ToolRequest<B> {
  access: DocAccess;
  /** Workspace id (32 hex). */
  ws: string;
  instance: ToolInstance;
  /** Path parameters of the route (`:task` …), URI-decoded but otherwise unchecked. */
  params: Record<string, string>;
  query: URLSearchParams;
  body: B;
}

export interface ToolRoute<B = unknown> {
  method: ToolMethod;
  /** Below `/api/workspaces/:ws/tools/:tool`, starting with '/', e.g. '/tasks/:task'. Unique across tools. */
  path: string;
  /** Schema of the JSON body; routes without one read no body. */
  body?: z.ZodType<B>;
  /** HTTP status of a success; default 200. */
  status?: number;
  // Method syntax on purpose: routes with different body types share one list.
  handle(req: ToolRequest<B>): unknown;
}

/** Declares a route; erases its body type so routes of different shapes live in one list. */
export function toolRoute<B = undefined>(r: ToolRoute<B>): ToolRoute {
  return r as ToolRoute;
}

/** A positional argument of a tool command (after WS and TOOL, which every tool command takes). */
export interface ToolCommandArg {
  name: string;
  description: string;
  optional?: boolean;
  /** Takes the rest of the words (joined by the command as it likes). */
  variadic?: boolean;
}

export interface ToolCommandOption {
  /** Commander-style flags, e.g. '--status <status>' or '--json'. */
  flags: string;
  description: string;
  /** May be given several times; the value is then a string array. */
  repeatable?: boolean;
}

/** What the CLI offers a tool command: calls to the daemon for this instance, files, output. */
export interface ToolCli {
  /** GET `/api/workspaces/WS/tools/TOOL` + path (+ query); failures end the command with the right exit code. */
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** Reads a UTF-8 text file of at most `maxBytes`; a missing or large file ends the command (exit 1). */
  readText(file: string, maxBytes: number): string;
  writeText(file: string, text: string): void;
  /** Prints text (with terminal control characters neutralised: it may come from other members). */
  print(text: string): void;
  /** Prints an aligned table; cells are shown on one line each. */
  table(rows: string[][], header: string[]): void;
  json(value: unknown): void;
  /** Local date and time to the minute. */
  time(ms: number): string;
  /** Ends the command: one line on stderr, exit 1. */
  fail(message: string): never;
}

export interface ToolCommand {
  name: string;
  description: string;
  args?: readonly ToolCommandArg[];
  options?: readonly ToolCommandOption[];
  /** `args` in declaration order (a variadic one is a string array); `opts` by camelCase name. */
  run(cli: ToolCli, args: readonly (string | string[] | undefined)[], opts: Record<string, unknown>): Promise<void>;
}

/**
 * What the CLI needs of a tool. Kept apart (a tool's `*-cli.ts`, importing neither Yjs nor zod) so
 * every `trellis` command starts without loading them.
 */
export interface ToolInfo {
  /** Type name, e.g. 'notes'; also the CLI command group. */
  readonly type: string;
  /** One line for `trellis tool add --help` and the CLI group. */
  readonly description: string;
  readonly commands: readonly ToolCommand[];
}

export interface Tool extends ToolInfo {
  /** Adds a new instance to the workspace's tool list (managers only) and prepares its document. */
  create(access: DocAccess, ws: string, name: string): ToolInstance;
  readonly routes: readonly ToolRoute[];
}
