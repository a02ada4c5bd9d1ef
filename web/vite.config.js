// Vite build of the caseworker's web UI. `npm run build` writes dist/ (served by FastAPI at /).
// `npm run dev` proxies /api to a local `safetynet serve` on port 8000.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
})
