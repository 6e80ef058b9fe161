// The gallery's build: plain ES modules bundled by Vite into dist/ (index.html + content-hashed
// files under dist/assets/, which terraform/web/server.py serves as immutable). Nothing is loaded
// from a CDN: every asset comes from this folder or node_modules at build time.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // The page runs under a CSP with `script-src 'self'`: no inline scripts, no eval.
    modulePreload: { polyfill: false },
  },
  test: {
    include: ['test/**/*.test.js'],
    environment: 'node',
  },
});
