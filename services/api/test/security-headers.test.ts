/**
 * Security headers come from the API itself, on every kind of answer: the
 * web app's HTML, its assets, JSON, errors (400, 404, malformed URL) and the
 * "not built" page. Checked through inject and once on a real socket.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { listen, publicUrl, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const expected = {
	"x-content-type-options": "nosniff",
	"referrer-policy": "no-referrer",
	"x-frame-options": "DENY",
	"cross-origin-opener-policy": "same-origin",
	"cross-origin-resource-policy": "same-origin",
	"permissions-policy": /^(?=.*camera=\(self\))(?=.*microphone=\(self\))(?=.*display-capture=\(self\))/,
};

/** The CSP as directive → sources. */
function parseCsp(header: string): Map<string, string[]> {
	const directives = new Map<string, string[]>();
	for (const part of header.split(";")) {
		const [name, ...sources] = part.trim().split(/\s+/);
		if (name) directives.set(name, sources);
	}
	return directives;
}

function assertHeaders(headers: Record<string, string | string[] | number | undefined>, what: string): void {
	for (const [name, value] of Object.entries(expected)) {
		const actual = String(headers[name] ?? "");
		if (value instanceof RegExp) assert.match(actual, value, `${what}: ${name}`);
		else assert.equal(actual, value, `${what}: ${name}`);
	}
	const csp = parseCsp(String(headers["content-security-policy"] ?? ""));
	assert.deepEqual(csp.get("default-src"), ["'self'"], `${what}: default-src`);
	assert.deepEqual(csp.get("script-src"), ["'self'"], `${what}: script-src`);
	assert.deepEqual(csp.get("style-src"), ["'self'"], `${what}: style-src, no 'unsafe-inline'`);
	assert.deepEqual(csp.get("object-src"), ["'none'"], `${what}: object-src`);
	assert.deepEqual(csp.get("base-uri"), ["'none'"], `${what}: base-uri`);
	assert.deepEqual(csp.get("frame-ancestors"), ["'none'"], `${what}: frame-ancestors`);
	assert.deepEqual(csp.get("form-action"), ["'self'"], `${what}: form-action`);
	assert.deepEqual(csp.get("media-src"), ["'self'", "blob:", "mediastream:"], `${what}: media-src`);
	assert.deepEqual(csp.get("img-src"), ["'self'"], `${what}: img-src`);
	// PUBLIC_URL is https (helpers.ts): its wss: origin, for browsers whose 'self' does not cover WebSockets.
	assert.equal(publicUrl, "https://meet.example.test");
	assert.deepEqual(csp.get("connect-src"), ["'self'", "wss://meet.example.test"], `${what}: connect-src`);
	for (const [name, sources] of csp) {
		for (const source of sources) {
			assert.doesNotMatch(source, /unsafe|\*/, `${what}: ${name} allows ${source}`);
		}
	}
}

describe("security headers", { timeout: 60_000 }, () => {
	let dist: string;
	let api: TestApi;

	before(async () => {
		dist = await mkdtemp(join(tmpdir(), "mindmeet-web-"));
		await mkdir(join(dist, "assets"));
		await writeFile(join(dist, "index.html"), "<!doctype html><title>Mindmeet</title>");
		await writeFile(join(dist, "assets", "app-abc.js"), "console.log(1)");
		await writeFile(join(dist, "assets", "app-abc.css"), "body{}");
		api = await startTestApi({ WEB_DIST: dist });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
		await rm(dist, { recursive: true, force: true });
	});

	const get = (url: string): Promise<LightMyRequestResponse> => api.app.inject({ method: "GET", url });

	test("the page, a page route and the assets", async () => {
		for (const url of ["/", "/r/abcdefghij", "/assets/app-abc.js", "/assets/app-abc.css"]) {
			const res = await get(url);
			assert.equal(res.statusCode, 200, url);
			assertHeaders(res.headers, url);
		}
	});

	test("API JSON: health, room creation, OpenAPI", async () => {
		assertHeaders((await get("/api/health")).headers, "health");
		assertHeaders((await get("/api/openapi.json")).headers, "openapi");
		const created = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: { hostName: "Ana", mode: "video" },
		});
		assert.equal(created.statusCode, 201);
		assertHeaders(created.headers, "POST /api/rooms");
	});

	test("errors: 400, 404 (API route, unknown id, missing asset), 415, malformed URL", async () => {
		const bad = await api.app.inject({ method: "POST", url: "/api/rooms", payload: { hostName: 3 } });
		assert.equal(bad.statusCode, 400);
		assertHeaders(bad.headers, "400");
		for (const url of ["/api/nothing", "/api/rooms/zzzzzzzzzz", "/assets/missing.js"]) {
			const res = await get(url);
			assert.equal(res.statusCode, 404, url);
			assertHeaders(res.headers, url);
		}
		const text = await api.app.inject({
			method: "POST",
			url: "/api/rooms",
			payload: "hi",
			headers: { "content-type": "text/plain" },
		});
		assert.equal(text.statusCode, 415);
		assertHeaders(text.headers, "415");
		const malformed = await get("/api/rooms/%E0%A4%A");
		assert.equal(malformed.statusCode, 400);
		assertHeaders(malformed.headers, "malformed URL");
	});

	test("on the wire, through a real socket", async () => {
		const http = (await listen(api)).replace(/^ws:/, "http:");
		for (const url of ["/", "/api/health", "/api/nothing"]) {
			const res = await fetch(`${http}${url}`);
			await res.arrayBuffer();
			assertHeaders(Object.fromEntries(res.headers), url);
		}
	});
});

describe("security headers when the web app is not built", { timeout: 60_000 }, () => {
	let api: TestApi;
	before(async () => {
		api = await startTestApi({
			WEB_DIST: join(tmpdir(), "mindmeet-no-such-dist"),
			PUBLIC_URL: "http://localhost:3000",
		});
	});
	after(async () => {
		await api?.close();
	});

	test("the 503 page carries them too, with ws: for an http public URL", async () => {
		const res = await api.app.inject({ method: "GET", url: "/" });
		assert.equal(res.statusCode, 503);
		const csp = parseCsp(String(res.headers["content-security-policy"]));
		assert.deepEqual(csp.get("connect-src"), ["'self'", "ws://localhost:3000"]);
		assert.equal(res.headers["x-content-type-options"], "nosniff");
		assert.equal(res.headers["referrer-policy"], "no-referrer");
	});
});
