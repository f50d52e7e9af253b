import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestApi, type TestApi } from "./helpers.ts";

interface Operation {
	summary?: string;
	tags?: string[];
	security?: Record<string, string[]>[];
}
interface OpenApiDocument {
	openapi: string;
	paths: Record<string, Record<string, Operation>>;
	components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
}

describe("OpenAPI document", () => {
	let api: TestApi;
	let doc: OpenApiDocument;

	before(async () => {
		api = await startTestApi();
		const res = await api.app.inject({ method: "GET", url: "/api/openapi.json" });
		assert.equal(res.statusCode, 200);
		assert.match(String(res.headers["content-type"]), /^application\/json/);
		doc = res.json<OpenApiDocument>();
	});
	after(async () => {
		await api?.close();
	});

	test("is OpenAPI 3 and lists the rooms, lobby, ICE and admin routes", () => {
		assert.match(doc.openapi, /^3\./);
		const expected: [string, string][] = [
			["/api/rooms", "post"],
			["/api/rooms/{roomId}", "get"],
			["/api/rooms/{roomId}/knocks", "post"],
			["/api/rooms/{roomId}/knocks/{knockId}", "delete"],
			["/api/rooms/{roomId}/knocks/{knockId}/wait", "get"],
			["/api/rooms/{roomId}/knocks/{knockId}/admit", "post"],
			["/api/rooms/{roomId}/knocks/{knockId}/deny", "post"],
			["/api/rooms/{roomId}/lobby", "get"],
			["/api/rooms/{roomId}/ice-servers", "get"],
			["/api/rooms/{roomId}/token", "post"],
			["/api/admin/rooms", "get"],
			["/api/admin/rooms/{roomId}", "get"],
			["/api/admin/rooms/{roomId}", "delete"],
			["/api/admin/rooms/{roomId}/peers/{peerId}", "delete"],
			["/api/health", "get"],
			["/sfu/{nodeId}", "get"],
		];
		for (const [path, method] of expected) {
			const operation = doc.paths[path]?.[method];
			assert.ok(operation, `${method.toUpperCase()} ${path} is documented`);
			assert.ok(operation.summary, `${method.toUpperCase()} ${path} has a summary`);
			assert.ok(operation.tags?.length, `${method.toUpperCase()} ${path} has tags`);
		}
	});

	test("admin routes require the admin bearer scheme; host decisions the room token", () => {
		assert.deepEqual(doc.components.securitySchemes.adminToken, {
			type: "http",
			scheme: "bearer",
			description: "The ADMIN_TOKEN configured on the API",
		});
		for (const [path, methods] of Object.entries(doc.paths)) {
			if (!path.startsWith("/api/admin/")) continue;
			for (const operation of Object.values(methods)) assert.deepEqual(operation.security, [{ adminToken: [] }]);
		}
		assert.deepEqual(doc.paths["/api/rooms/{roomId}/knocks/{knockId}/admit"]?.post?.security, [{ roomToken: [] }]);
		assert.deepEqual(doc.paths["/api/rooms/{roomId}/token"]?.post?.security, [{ roomToken: [] }]);
	});

	test("page routes and the removed direct join are not in it", () => {
		assert.equal(doc.paths["/"], undefined);
		assert.equal(doc.paths["/*"], undefined);
		assert.equal(doc.paths["/api/rooms/{roomId}/join"], undefined);
	});
});
