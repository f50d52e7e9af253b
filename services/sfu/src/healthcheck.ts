/**
 * Container healthcheck for the SFU: exits 0 when its internal `GET /health`
 * (on the signaling port) answers 200 — Redis answers and a mediasoup worker
 * is alive — and 1 otherwise (503, no answer, nothing listening).
 * A script file instead of `node -e "<code>"` because podman 4.3 splits a
 * healthcheck's arguments at spaces when the check comes through its
 * Docker-compatible API; this form has no spaces and works with both engines.
 */
const port = process.env.SFU_SIGNALING_PORT ?? "4001";
try {
	const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4_000) });
	process.exit(response.ok ? 0 : 1);
} catch {
	process.exit(1);
}
