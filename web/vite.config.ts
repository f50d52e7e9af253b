import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

/** The API (which also proxies the SFU's WebSocket) in local development. */
const backend = "http://localhost:3000";

export default defineConfig({
	plugins: [solid()],
	build: {
		outDir: "dist",
		assetsDir: "assets",
		emptyOutDir: true,
	},
	server: {
		proxy: {
			"/api": backend,
			"/sfu": { target: backend, ws: true },
		},
	},
});
