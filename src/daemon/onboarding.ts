// First run in the browser: GET /api/identity says whether this device has an identity yet, and
// POST /api/identity {name} creates it (and starts the peer) while it has none. Afterwards the
// POST answers 409: an identity is never replaced through the API.
import { z } from 'zod';
import { TrellisError } from '../core/errors.ts';
import { MAX_NAME_CHARS } from '../peer-api.ts';
import { route, type Route } from './router.ts';

export interface Onboarding {
  /** The identity's display name; undefined while there is none. */
  name(): string | undefined;
  /** Creates the identity with this name and starts the peer; resolves once the peer runs. */
  create(name: string): Promise<void>;
}

const CreateIdentity = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`),
}).strict();

export function identityRoutes(onboarding: Onboarding): Route[] {
  let creating = false;
  return [
    route({
      method: 'GET',
      path: '/api/identity',
      handle: () => {
        const name = onboarding.name();
        return { exists: name !== undefined, name: name ?? null };
      },
    }),
    route({
      method: 'POST',
      path: '/api/identity',
      body: CreateIdentity,
      status: 201,
      handle: async ({ body }) => {
        if (onboarding.name() !== undefined || creating) throw new TrellisError('conflict', 'this device has an identity already');
        creating = true;
        try {
          await onboarding.create(body.name);
        } finally {
          creating = false;
        }
        return { exists: true, name: onboarding.name() ?? body.name };
      },
    }),
  ];
}
