// The `--api HOST:PORT` address of the daemon's local API. Only loopback hosts are allowed: the API
// holds the user's whole workspace behind one token, so it must never be reachable from the network.
// Kept free of heavy imports: the CLI checks `--api` before it loads the peer.
import { TrellisError } from '../core/errors.ts';

export const DEFAULT_API_PORT = 7420;

export interface ApiAddress {
  /** The address to bind: '127.0.0.1' (also for 'localhost', so it never resolves to a public name) or '::1'. */
  host: string;
  /** 0 = any free port. */
  port: number;
}

/** Parses `HOST:PORT`, `HOST`, `:PORT` or `PORT`; throws TrellisError('invalid') for anything else or a non-loopback host. */
export function parseApiAddress(text: string): ApiAddress {
  const s = text.trim();
  let host = '127.0.0.1';
  let portText = String(DEFAULT_API_PORT);
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2] !== undefined) portText = bracketed[2];
  } else if (/^\d+$/.test(s)) {
    portText = s;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') !== colon) {
      throw new TrellisError('invalid', `cannot read the API address "${text}": write an IPv6 host in brackets, e.g. [::1]:${DEFAULT_API_PORT}`);
    }
    if (colon >= 0) {
      host = s.slice(0, colon) || host;
      portText = s.slice(colon + 1);
    } else {
      host = s;
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new TrellisError('invalid', `the API port in "${text}" must be a number from 0 to 65535 (0 = any free port)`);
  }
  return { host: loopbackBindHost(host, text), port: Number(portText) };
}

/** Maps a loopback host name to the address to bind; throws for anything that is not loopback. */
export function loopbackBindHost(host: string, shown: string = host): string {
  const h = host.toLowerCase();
  if (h === 'localhost') return '127.0.0.1';
  if (h === '::1') return '::1';
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) && h.split('.').every((p) => Number(p) <= 255)) return h;
  throw new TrellisError('invalid',
    `refusing to serve the API on "${shown}": it must stay on this machine; use a loopback address such as 127.0.0.1:${DEFAULT_API_PORT}`);
}

/** How a bound host appears in URLs and Host headers. */
export function urlHost(bindHost: string): string {
  return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
}
