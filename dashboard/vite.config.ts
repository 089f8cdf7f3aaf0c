import { defineConfig } from "vite";

// Hashed file names under /assets/ (served with a year's immutable cache by the gateway), no
// inline script or style (the gateway's Content-Security-Policy allows 'self' only).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
  },
});
