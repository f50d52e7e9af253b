/**
 * Container healthcheck for the API: exits 0 when GET /api/health answers
 * 2xx, 1 otherwise. A script file instead of `node -e "<code>"` because
 * podman 4.3 splits a healthcheck's arguments at spaces when the check comes
 * through its Docker-compatible API (docker-compose against podman's socket);
 * `["CMD", "node", "services/api/src/healthcheck.ts"]` has no spaces and works
 * with both engines.
 */
const port = process.env.PORT ?? "3000";
try {
	const response = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(4_000) });
	process.exit(response.ok ? 0 : 1);
} catch {
	process.exit(1);
}
