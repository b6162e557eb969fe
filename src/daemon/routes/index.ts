// Every API route, by resource group. A new tool adds its file here.
import type { Route } from '../router.ts';
import { chatRoutes } from './chat.ts';
import { controlRoutes } from './control.ts';
import { historyRoutes } from './history.ts';
import { fileTransferRoutes } from './file-transfer.ts';
import { fileRoutes } from './files.ts';
import { invitationRoutes } from './invitations.ts';
import { memberRoutes } from './members.ts';
import { membershipRoutes } from './membership.ts';
import { presenceRoutes } from './presence.ts';
import { callRoutes } from './calls.ts';
import { relayRoutes } from './relays.ts';
import { statusRoutes } from './status.ts';
import { toolRoutes } from './tools.ts';
import { workspaceRoutes } from './workspaces.ts';

export const apiRoutes: readonly Route[] = [
  ...statusRoutes,
  ...workspaceRoutes,
  ...invitationRoutes,
  ...memberRoutes,
  ...membershipRoutes,
  ...chatRoutes,
  ...presenceRoutes,
  ...callRoutes,
  ...controlRoutes,
  ...toolRoutes,
  ...historyRoutes,
  ...fileRoutes,
  ...fileTransferRoutes,
  ...relayRoutes,
];
