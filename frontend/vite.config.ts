import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev`: Vite serves the app and passes /api to the gateway (GATEWAY_URL, default npm start's).
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/api': { target: gateway, changeOrigin: false } } },
  build: { outDir: 'dist', emptyOutDir: true, reportCompressedSize: true },
});
