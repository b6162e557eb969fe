// Topics and replies as the discussion tool returns them (API, SDK, CLI --json).
export const DISCUSSION_TYPE = 'discussion';

export interface Reply {
  id: string;
  author: string;
  authorName: string;
  text: string;
  time: number;
  parent: string;
  /** emoji → keys of the members who reacted with it (sorted). */
  reactions: Record<string, string[]>;
}

export interface TopicSummary {
  id: string;
  title: string;
  author: string;
  authorName: string;
  time: number;
  /** Posts, the opening one included. */
  posts: number;
  /** Posts by others since I last marked the topic read. */
  unread: number;
  lastTime: number;
}

export interface Topic extends TopicSummary {
  replies: Reply[];
}
