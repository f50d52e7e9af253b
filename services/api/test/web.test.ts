import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { registerNode, startTestApi, type TestApi } from "./helpers.ts";

const indexHtml = "<!doctype html><title>Mindmeet</title><div id=app></div>";
const appJs = "console.log('mindmeet');";

describe("web app serving", () => {
	let dist: string;
	let api: TestApi;

	before(async () => {
		dist = await mkdtemp(join(tmpdir(), "mindmeet-web-"));
		await mkdir(join(dist, "assets"));
		await writeFile(join(dist, "index.html"), indexHtml);
		await writeFile(join(dist, "assets", "app-abc.js"), appJs);
		await writeFile(join(dist, "favicon.svg"), "<svg/>");
		api = await startTestApi({ WEB_DIST: dist });
	});
	after(async () => {
		await api?.close();
		await rm(dist, { recursive: true, force: true });
	});

	test("/ serves index.html, revalidated on every load", async () => {
		const res = await api.app.inject({ method: "GET", url: "/" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, indexHtml);
		assert.match(String(res.headers["content-type"]), /^text\/html/);
		assert.equal(res.headers["cache-control"], "no-cache");
	});

	test("/r/:roomId serves index.html", async () => {
		const res = await api.app.inject({ method: "GET", url: "/r/abc" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, indexHtml);
		assert.equal(res.headers["cache-control"], "no-cache");
	});

	test("a page route with a query string serves index.html", async () => {
		const res = await api.app.inject({ method: "GET", url: "/r/abc?from=qr" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, indexHtml);
	});

	test("any other page route falls back to index.html", async () => {
		const res = await api.app.inject({ method: "GET", url: "/some/client/route" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, indexHtml);
	});

	test("a hashed asset is served with an immutable cache", async () => {
		const res = await api.app.inject({ method: "GET", url: "/assets/app-abc.js" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, appJs);
		assert.match(String(res.headers["content-type"]), /javascript/);
		assert.equal(res.headers["cache-control"], "public, max-age=31536000, immutable");
	});

	test("another file at the root is served and revalidated", async () => {
		const res = await api.app.inject({ method: "GET", url: "/favicon.svg" });
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, "<svg/>");
		assert.equal(res.headers["cache-control"], "no-cache");
	});

	test("a missing hashed asset is a 404, not the page", async () => {
		const res = await api.app.inject({ method: "GET", url: "/assets/app-old.js" });
		assert.equal(res.statusCode, 404);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
	});

	test("path traversal never leaves the dist directory", async () => {
		for (const url of ["/../../etc/passwd", "/assets/..%2F..%2Fetc%2Fpasswd", "/%2e%2e/%2e%2e/etc/passwd"]) {
			const res = await api.app.inject({ method: "GET", url });
			assert.doesNotMatch(res.body, /root:/, url);
			assert.ok(res.statusCode === 200 ? res.body === indexHtml : res.statusCode >= 400, url);
		}
	});

	test("/api/nope is a JSON 404, never index.html", async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/nope" });
		assert.equal(res.statusCode, 404);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
		assert.equal(res.json().statusCode, 404);
	});

	test("/api itself is a JSON 404", async () => {
		const res = await api.app.inject({ method: "GET", url: "/api" });
		assert.equal(res.statusCode, 404);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
	});

	test("a plain GET of the proxy route is a JSON 404", async () => {
		const res = await api.app.inject({ method: "GET", url: "/sfu/node?token=secret" });
		assert.equal(res.statusCode, 404);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
		assert.doesNotMatch(res.body, /secret/);
	});

	test("a plain GET under /sfu/ is a 404, never index.html", async () => {
		const res = await api.app.inject({ method: "GET", url: "/sfu/node/extra" });
		assert.equal(res.statusCode, 404);
		assert.notEqual(res.body, indexHtml);
	});
});

describe("web app not built", () => {
	let api: TestApi;
	let missing: string;

	before(async () => {
		missing = join(tmpdir(), `mindmeet-no-dist-${process.pid}-${Date.now()}`);
		api = await startTestApi({ WEB_DIST: missing });
	});
	after(async () => {
		await api?.close();
	});

	test("/ answers 503 saying how to build it", async () => {
		const res = await api.app.inject({ method: "GET", url: "/" });
		assert.equal(res.statusCode, 503);
		assert.match(String(res.headers["content-type"]), /^text\/plain/);
		assert.equal(res.body, "The web app is not built: run `npm run build`");
	});

	test("/r/:roomId answers 503 too", async () => {
		const res = await api.app.inject({ method: "GET", url: "/r/abc" });
		assert.equal(res.statusCode, 503);
	});

	test("the API still works", async () => {
		// Healthy takes a live SFU node too (see the health plugin).
		await registerNode(api.redis, { id: "node-a" });
		const res = await api.app.inject({ method: "GET", url: "/api/health" });
		assert.equal(res.statusCode, 200);
	});
});
