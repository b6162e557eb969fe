// The Trellis mark: a small lattice.
export function Logo({ small }: { small?: boolean }) {
  const s = small ? 24 : 40;
  return (
    <svg className="logo" width={s} height={s} viewBox="0 0 40 40" aria-hidden="true">
      <rect x="2" y="2" width="36" height="36" rx="10" className="logo-bg" />
      <path d="M12 12 L28 28 M28 12 L12 28 M20 8 V32 M8 20 H32" className="logo-lines" />
    </svg>
  );
}
