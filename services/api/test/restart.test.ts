/**
 * Transient failures are never refusals. An API process restart is a blip:
 * tokens signed before it still verify (the public key stays in Redis for
 * longer than any token it signed) and renew, open the host's lobby and admit.
 * Redis being unreachable answers 503 (sockets: 1013) on every route that
 * takes a room token, whether or not this instance has seen the token before,
 * never 401/4401: clients must keep their credentials through an outage.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LobbyHostEvent, type RenewTokenResponse, redisKeys } from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenVerifier } from "@mindmeet/protocol/token-keys";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import WebSocket from "ws";
import { buildApi } from "../src/app.ts";
import { type ApiRedisClient, createApiRedis } from "../src/redis.ts";
import {
	addPresence,
	admitGuest,
	createRoom,
	decide,
	knock,
	listen,
	registerNode,
	renewToken,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

/** Another API process on the same Redis: its own client, its own signing key, nothing in memory. */
async function startAnotherApi(api: TestApi): Promise<{ app: FastifyInstance; redis: ApiRedisClient; base: string }> {
	const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
	const redis = createApiRedis(api.config.redisUrl, log);
	await redis.connect();
	const app = await buildApi({ config: api.config, redis, logger: log });
	const base = await listen({ app });
	return { app, redis, base };
}

const storageUnavailable = {
	statusCode: 503,
	error: "Service Unavailable",
	message: "storage unavailable, try again shortly",
};

describe("API restart: tokens signed before it keep working", { timeout: 60_000 }, () => {
	let api: TestApi;
	let second: Awaited<ReturnType<typeof startAnotherApi>> | undefined;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await second?.app.close();
		second?.redis.destroy();
		await api?.close();
	});

	test("a token minted before the restart renews, opens the host lobby and admits on the new process", async () => {
		const base = await listen(api);
		const room = await createRoom(api, "Ana");
		const guest = await admitGuest(api, base, room.roomId, room.hostToken, "Eva");
		await addPresence(api.redis, room.roomId, { peerId: room.peerId, name: "Ana", role: "host" });
		await addPresence(api.redis, room.roomId, { peerId: guest.peerId, name: "Eva" });

		// The public key outlives every token it signed, so a process that is gone leaves nothing unverifiable.
		const keys = await api.redis.keys(redisKeys.tokenKey("*"));
		assert.equal(keys.length, 1);
		const [keyName] = keys;
		assert.ok(keyName);
		const keyTtlMs = await api.redis.pTTL(keyName);
		const hostClaims = await new TokenVerifier(redisPublicKeyStore(api.redis)).verify(room.hostToken);
		assert.ok(Date.now() + keyTtlMs > hostClaims.exp * 1000, "the key lives longer than the host token");
		assert.ok(keyTtlMs > api.config.hostTokenTtl * 1000, "the key lives longer than the longest token");

		// The first process goes away (Redis stays), a new one starts with a new key.
		await api.app.close();
		second = await startAnotherApi(api);
		assert.equal((await api.redis.keys(redisKeys.tokenKey("*"))).length, 2, "both keys published");

		const renewedGuest = await renewToken(second, room.roomId, guest.token);
		assert.equal(renewedGuest.statusCode, 200, renewedGuest.body);
		assert.equal(renewedGuest.json<RenewTokenResponse>().peerId, guest.peerId);
		assert.equal(renewedGuest.json<RenewTokenResponse>().role, "guest");
		const renewedHost = await renewToken(second, room.roomId, room.hostToken);
		assert.equal(renewedHost.statusCode, 200, renewedHost.body);
		assert.equal(renewedHost.json<RenewTokenResponse>().role, "host");

		// The old host token still holds the lobby and decides knocks.
		const lobby = watchSocket<LobbyHostEvent>(
			`${second.base}/api/rooms/${room.roomId}/lobby?token=${encodeURIComponent(room.hostToken)}`,
		);
		assert.deepEqual(await lobby.next(), { type: "knocks", knocks: [] });
		const k = await knock(second, room.roomId, "Caio");
		assert.equal((await lobby.next()).type, "knock");
		const admit = await decide(second, room.roomId, k.knockId, "admit", room.hostToken);
		assert.equal(admit.statusCode, 200, admit.body);
		assert.deepEqual(await lobby.next(), { type: "knock-ended", knockId: k.knockId, end: "admitted" });
		// And so does the token renewed on the new process.
		const newHostToken = renewedHost.json<RenewTokenResponse>().token;
		const k2 = await knock(second, room.roomId, "Davi");
		assert.equal((await lobby.next()).type, "knock");
		assert.equal((await decide(second, room.roomId, k2.knockId, "deny", newHostToken)).statusCode, 200);
		lobby.socket.close();
		await lobby.closed;
	});
});

describe("Redis unreachable: room-token routes answer 503 / 1013, never 401 / 4401", { timeout: 60_000 }, () => {
	let api: TestApi;
	let fresh: Awaited<ReturnType<typeof startAnotherApi>> | undefined;
	let base: string;
	let roomId: string;
	let hostToken: string;
	let guestToken: string;

	before(async () => {
		api = await startTestApi({ KNOCK_RATE_LIMIT: "100000" });
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
		const room = await createRoom(api, "Ana");
		roomId = room.roomId;
		hostToken = room.hostToken;
		const guest = await admitGuest(api, base, roomId, hostToken, "Eva");
		guestToken = guest.token;
		await addPresence(api.redis, roomId, { peerId: room.peerId, name: "Ana", role: "host" });
		await addPresence(api.redis, roomId, { peerId: guest.peerId, name: "Eva" });
		// A process that has never seen these tokens nor their key: it must fetch the key, and cannot.
		fresh = await startAnotherApi(api);
		await api.redisServer.stop();
	});
	after(async () => {
		await fresh?.app.close();
		fresh?.redis.destroy();
		await api?.close();
	});

	const instances = () => [
		{ name: "the process that signed the tokens", app: api.app, base },
		{ name: "a process that never saw them", app: fresh?.app ?? api.app, base: fresh?.base ?? base },
	];

	test("renewal → 503", { timeout: 15_000 }, async () => {
		for (const instance of instances()) {
			for (const token of [guestToken, hostToken]) {
				const res = await renewToken(instance, roomId, token);
				assert.equal(res.statusCode, 503, `${instance.name}: ${res.body}`);
				assert.deepEqual(res.json(), storageUnavailable);
			}
		}
	});

	test("ICE servers, admit and deny → 503", { timeout: 15_000 }, async () => {
		for (const instance of instances()) {
			const ice = await instance.app.inject({
				method: "GET",
				url: `/api/rooms/${roomId}/ice-servers`,
				headers: { authorization: `Bearer ${guestToken}` },
			});
			assert.equal(ice.statusCode, 503, `${instance.name}: ${ice.body}`);
			assert.deepEqual(ice.json(), storageUnavailable);
			for (const decision of ["admit", "deny"] as const) {
				const res = await decide(instance, roomId, "A".repeat(16), decision, hostToken);
				assert.equal(res.statusCode, 503, `${instance.name} ${decision}: ${res.body}`);
				assert.deepEqual(res.json(), storageUnavailable);
			}
		}
	});

	test("the host lobby socket closes with 1013 (try again later)", { timeout: 15_000 }, async () => {
		for (const instance of instances()) {
			const lobby = watchSocket(`${instance.base}/api/rooms/${roomId}/lobby?token=${encodeURIComponent(hostToken)}`);
			const closed = await lobby.closed;
			assert.equal(closed.code, 1013, instance.name);
			assert.equal(closed.reason, "storage unavailable, try again shortly");
		}
	});

	test("the signaling proxy closes with 1013", { timeout: 15_000 }, async () => {
		for (const instance of instances()) {
			const client = new WebSocket(
				`${instance.base}/sfu/node-a?roomId=${roomId}&token=${encodeURIComponent(guestToken)}`,
				"protoo",
			);
			client.on("error", () => {});
			const code = await new Promise<number>((resolve) => client.on("close", (c) => resolve(c)));
			assert.equal(code, 1013, instance.name);
		}
	});
});
