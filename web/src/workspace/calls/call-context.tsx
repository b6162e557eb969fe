// The page's call, shared by every view: the engine (use-call.ts) lives here, beside the app
// state, so moving between workspaces keeps the call going.
import { createContext, useContext, type ReactNode } from 'react';
import { useCallEngine, type CallState } from './use-call.ts';

const Ctx = createContext<CallState | null>(null);

export function CallProvider({ children }: { children: ReactNode }) {
  const engine = useCallEngine();
  return <Ctx.Provider value={engine}>{children}</Ctx.Provider>;
}

export function useCall(): CallState {
  const v = useContext(Ctx);
  if (v === null) throw new Error('useCall outside CallProvider');
  return v;
}
