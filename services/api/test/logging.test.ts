/**
 * Logs never carry tokens, query strings, headers or names: every line the
 * API writes while serving typical and hostile requests is checked.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type {
	CreateRoomResponse,
	KnockResponse,
	LobbyGuestEvent,
	LobbyHostEvent,
	RenewTokenResponse,
} from "@mindmeet/protocol";
import { pino } from "pino";
import WebSocket from "ws";
import { addPresence, registerNode, renewToken, startTestApi, type TestApi, watchSocket } from "./helpers.ts";

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
		api = await startTestApi({ ADMIN_TOKEN: "an-admin-token-for-tests" }, pino({ level: "trace" }, sink));
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
		const address = api.app.server.address();
		assert.ok(address && typeof address === "object");
		const base = `ws://127.0.0.1:${address.port}`;

		// The lobby, end to end: knock, host socket (token in the query), wait socket (secret in the query), admit.
		const knocked = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${roomId}/knocks`,
			payload: { name: "Guest Person" },
		});
		assert.equal(knocked.statusCode, 201);
		const { knockId, knockSecret } = knocked.json<KnockResponse>();
		const host = watchSocket<LobbyHostEvent>(`${base}/api/rooms/${roomId}/lobby?token=${hostToken}`);
		assert.equal((await host.next()).type, "knocks");
		const guest = watchSocket<LobbyGuestEvent>(
			`${base}/api/rooms/${roomId}/knocks/${knockId}/wait?secret=${knockSecret}`,
		);
		assert.equal((await guest.next()).type, "waiting");
		const admitted = await api.app.inject({
			method: "POST",
			url: `/api/rooms/${roomId}/knocks/${knockId}/admit`,
			headers: { authorization: `Bearer ${hostToken}` },
		});
		assert.equal(admitted.statusCode, 200);
		const answer = await guest.next();
		assert.ok(answer.type === "admitted");
		const guestToken = answer.token;
		await guest.closed;
		// Renewal: the old token goes in a header, the new one comes back in the body; neither is logged.
		await addPresence(api.redis, roomId, { peerId: answer.peerId, name: "Guest Person" });
		const renewed = await renewToken(api, roomId, guestToken);
		assert.equal(renewed.statusCode, 200);
		const renewedToken = renewed.json<RenewTokenResponse>().token;
		await renewToken(api, roomId, secret);
		// Refusals carrying secrets: a wrong knock secret, a bad bearer, a wrong admin token.
		await api.app.inject({
			method: "DELETE",
			url: `/api/rooms/${roomId}/knocks/${knockId}`,
			headers: { "x-knock-secret": secret },
		});
		await api.app.inject({
			method: "POST",
			url: `/api/rooms/${roomId}/knocks/${knockId}/deny`,
			headers: { authorization: `Bearer ${secret}` },
		});
		await api.app.inject({ method: "GET", url: "/api/admin/rooms", headers: { authorization: `Bearer ${secret}` } });
		const refusedSocket = watchSocket(`${base}/api/rooms/${roomId}/lobby?token=${secret}`);
		await refusedSocket.closed;
		host.socket.close();
		await host.closed;
		await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/r/${roomId}?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/api/nope?token=${secret}` });
		await api.app.inject({ method: "GET", url: `/api/rooms/%E0%A4%A?token=${secret}` });

		const ws = new WebSocket(`${base}/sfu/node-a?token=${secret}`, "protoo");
		ws.on("error", () => {});
		await once(ws, "close");

		assert.ok(lines.length > 10, "the API logged its requests");
		assert.ok(lines.some((line) => line.includes(`"path":"/api/rooms/${roomId}"`)));
		assert.ok(lines.some((line) => line.includes('"msg":"knock admitted"')));
		assert.ok(lines.some((line) => line.includes('"msg":"token renewed"')));
		for (const line of lines) {
			assert.doesNotMatch(line, new RegExp(secret), line);
			assert.ok(!line.includes(hostToken), "host token in the log");
			assert.ok(!line.includes(guestToken), "guest token in the log");
			assert.ok(!line.includes(renewedToken), "renewed token in the log");
			assert.ok(!line.includes(knockSecret), "knock secret in the log");
			assert.doesNotMatch(line, /Zelda|Guest Person/, line);
			assert.doesNotMatch(line, /"headers"|authorization|cookie/i, line);
		}
	});
});
