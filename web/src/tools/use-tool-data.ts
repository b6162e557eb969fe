// Loads a tool's data and loads it again whenever its document changes (locally or from another
// member), so every tool view is live without a reload.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../api/client.ts';
import { usePeerEvents } from '../app/app-state.tsx';

export function useToolData<T>(ws: string, docId: string, load: () => Promise<T>): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  // Answers may arrive out of order: only the newest request may set the state.
  const seq = useRef(0);

  const reload = useCallback(() => {
    const mine = ++seq.current;
    loadRef.current().then(
      (d) => { if (mine === seq.current) { setData(d); setError(null); } },
      (err: unknown) => { if (mine === seq.current) setError(errorText(err)); },
    );
  }, []);

  useEffect(() => { setData(null); reload(); }, [ws, docId, reload]);

  usePeerEvents((e) => {
    if (e.workspace !== ws) return;
    if ((e.type === 'doc' && e.doc === docId) || e.type === 'members') reload();
  });

  return { data, error, reload };
}
