// Every API route, by resource group. A new tool adds its file here.
import type { Route } from '../router.ts';
import { chatRoutes } from './chat.ts';
import { controlRoutes } from './control.ts';
import { invitationRoutes } from './invitations.ts';
import { memberRoutes } from './members.ts';
import { statusRoutes } from './status.ts';
import { workspaceRoutes } from './workspaces.ts';

export const apiRoutes: readonly Route[] = [
  ...statusRoutes,
  ...workspaceRoutes,
  ...invitationRoutes,
  ...memberRoutes,
  ...chatRoutes,
  ...controlRoutes,
];
