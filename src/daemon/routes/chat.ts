// The chat tool: read the log, post a message.
import { z } from 'zod';
import { MAX_CHAT_BYTES } from '../../peer-api.ts';
import { route } from '../router.ts';

const PostChat = z.object({
  text: z.string()
    .refine((t) => t.trim().length > 0, 'must not be empty')
    .refine((t) => Buffer.byteLength(t, 'utf8') <= MAX_CHAT_BYTES, `must be at most ${MAX_CHAT_BYTES} bytes of UTF-8`),
});

export const chatRoutes = [
  route({
    method: 'GET',
    path: '/api/workspaces/:ws/chat',
    handle: ({ peer, params }) => peer.chatLog(peer.resolveWorkspace(params.ws)),
  }),
  route({
    method: 'POST',
    path: '/api/workspaces/:ws/chat',
    body: PostChat,
    status: 201,
    handle: ({ peer, params, body }) => peer.sendChat(peer.resolveWorkspace(params.ws), body.text),
  }),
];
