// A member's initials on their colour, with an optional presence dot. (React sets `style` through
// the CSSOM, which the daemon's CSP allows; style attributes in markup it would refuse.)
import { colorOf, initials } from '../lib/format.ts';

interface Props {
  name: string;
  memberKey: string;
  status?: 'online' | 'idle' | 'offline';
  size?: 'sm' | 'md';
}

export function Avatar({ name, memberKey, status, size = 'md' }: Props) {
  return (
    <span className={`avatar avatar-${size}`} aria-hidden="true" style={{ backgroundColor: colorOf(memberKey) }}>
      {initials(name)}
      {status && <span className={`presence-dot presence-${status}`} />}
    </span>
  );
}
