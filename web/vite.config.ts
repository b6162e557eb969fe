// Builds the web UI into web/dist, which the daemon serves (src/daemon/static.ts). Run from the
// repository root: `npm run build:web`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The daemon's CSP allows no inline code: keep every script and style in its own file.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
