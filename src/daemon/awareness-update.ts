// Reading and writing y-protocols awareness updates (cursors and names of editors), so the document
// socket can check what browsers relay and, when a browser goes away, tell the others to drop its
// cursors at once instead of after the 30 s awareness timeout.
// Wire format (lib0 encoding): varUint count, then per client: varUint clientID, varUint clock,
// varString JSON state ('null' = the client left).

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The state as JSON text; 'null' for a removal. */
  json: string;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The entries of an update; undefined when it is not a well-formed one. */
export function readAwareness(bytes: Uint8Array): AwarenessEntry[] | undefined {
  let at = 0;
  const varUint = (): number => {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (at >= bytes.length) throw new RangeError('truncated');
      const b = bytes[at++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    throw new RangeError('varint too long');
  };
  try {
    const count = varUint();
    if (count > 64) return undefined;
    const out: AwarenessEntry[] = [];
    for (let i = 0; i < count; i++) {
      const clientId = varUint();
      const clock = varUint();
      const len = varUint();
      if (at + len > bytes.length) return undefined;
      const json = fromUtf8.decode(bytes.subarray(at, at + len));
      at += len;
      JSON.parse(json);
      out.push({ clientId, clock, json });
    }
    return at === bytes.length ? out : undefined;
  } catch {
    return undefined;
  }
}

export function writeAwareness(entries: readonly AwarenessEntry[]): Uint8Array {
  const out: number[] = [];
  const varUint = (n: number): void => {
    while (n > 127) { out.push(0x80 | (n % 128)); n = Math.floor(n / 128); }
    out.push(n);
  };
  varUint(entries.length);
  for (const e of entries) {
    varUint(e.clientId);
    varUint(e.clock);
    const b = utf8.encode(e.json);
    varUint(b.length);
    for (const x of b) out.push(x);
  }
  return Uint8Array.from(out);
}
