// Tells the other members which tool we have open and when we type (POST /presence; the daemon
// carries it on the ephemeral channel, never in the log). Typing ends by itself after a pause.
import { useCallback, useEffect, useRef } from 'react';
import { api } from '../api/endpoints.ts';

const TYPING_PAUSE_MS = 3000;

export function usePresence(ws: string, tool: string | undefined, enabled: boolean): { typing: () => void } {
  const typingUntil = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const toolRef = useRef(tool);
  toolRef.current = tool;

  const send = useCallback((typing: boolean) => {
    const t = toolRef.current;
    void api.presence(ws, { tool: t ?? null, typing }).catch(() => undefined);
  }, [ws]);

  useEffect(() => {
    if (!enabled) return;
    typingUntil.current = 0;
    send(false);
  }, [tool, enabled, send]);

  // Leaving the workspace: no tool open any more (fields left out would keep their value).
  useEffect(() => () => { window.clearTimeout(timer.current); if (enabled) void api.presence(ws, { tool: null, typing: false }).catch(() => undefined); }, [ws, enabled]);

  const typing = useCallback(() => {
    if (!enabled) return;
    const now = Date.now();
    if (typingUntil.current < now) send(true);
    typingUntil.current = now + TYPING_PAUSE_MS;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => { typingUntil.current = 0; send(false); }, TYPING_PAUSE_MS);
  }, [enabled, send]);

  return { typing };
}
