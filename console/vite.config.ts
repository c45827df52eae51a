import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The api serves dist/ at / under a strict CSP: no inline script or style, nothing from a CDN.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URLs for assets: every file comes from 'self'
    modulePreload: { polyfill: false }, // the polyfill would be an inline script
    target: "es2022",
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
