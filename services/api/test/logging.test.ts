/**
 * Logs never carry tokens, query strings, headers or names: every line the
 * API writes while serving typical and hostile requests is checked.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { CreateRoomResponse, JoinRoomResponse } from "@mindmeet/protocol";
import { pino } from "pino";
import WebSocket from "ws";
import { registerNode, startTestApi, type TestApi } from "./helpers.ts";

describe("logging", () => {
	const lines: string[] = [];
	let api: TestApi;

	before(async () => {
		const sink = new Writable({
			write(chunk: Buffer, _encoding, done) {
				lines.push(...chunk.toString().split("\n").filter(Boolean));
				done();
			},
		});
		api = await startTestApi({}, pino({ level: "trace" }, sink));
		await registerNode(api.redis, { id: "node-a" });
		await api.app.listen({ port: 0, host: "127.0.0.1" });
	});
	after(async () => {
		await api?.close();
	});

	test("no token, query string, header or display name reaches the log", async () => {
		const secret = "QUERYSECRET";
		const hostName = "Zelda Hostname";
		const created = await api.app.inject({
			method: "POST",
			url: `/api/rooms?token=${secret}`,
			headers: { authorization: `Bearer ${secret}`, cookie: `s=${secret}` },
			payload: { hostName, mode: "video" },
		});
		assert.equal(created.statusCode, 201);
		const { roomId, hostToken } = created.json<CreateRoomResponse>();
		const joined = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${roomId}/join`,
			payload: { name: "Guest Person" },
		});
		const { token: guestToken } = joined.json<JoinRoomResponse>();
		await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/r/${roomId}?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/api/nope?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/api/rooms/%E0%A4%A?token=${secret}` });

		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		const ws = new WebSocket(`ws://127.0.0.1:${address.port}/sfu/node-a?token=${secret}`, "protoo");
		ws.on("error", () => {});
		await once(ws, "close");

		assert.ok(lines.length > 10, "the API logged its requests");
		assert.ok(lines.some((line) => line.includes(`"path":"/api/rooms/${roomId}"`)));
		for (const line of lines) {
			assert.doesNotMatch(line, new RegExp(secret), line);
			assert.ok(!line.includes(hostToken), "host token in the log");
			assert.ok(!line.includes(guestToken), "guest token in the log");
			assert.doesNotMatch(line, /Zelda|Guest Person/, line);
			assert.doesNotMatch(line, /"headers"|authorization|cookie/i, line);
		}
	});
});
