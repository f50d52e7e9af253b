import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type CreateRoomResponse, type IceServersResponse, redisKeys } from "@mindmeet/protocol";
import { createRoom, decide, knock, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const turnUrls = ["turn:turn.example.test:3478?transport=udp", "turn:turn.example.test:3478?transport=tcp"];
const turnSecret = "fedcba9876543210";

function iceServers(api: TestApi, roomId: string, token?: string) {
	return api.app.inject({
		method: "GET",
		url: `/api/rooms/${roomId}/ice-servers`,
		headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
	});
}

describe("ICE servers with TURN configured", () => {
	let api: TestApi;
	let room: CreateRoomResponse;

	before(async () => {
		api = await startTestApi({ TURN_URLS: turnUrls.join(","), TURN_SECRET: turnSecret });
		await registerNode(api.redis, { id: "node-a" });
		room = await createRoom(api);
	});
	after(async () => {
		await api?.close();
	});

	test("a participant gets coturn REST credentials for its peer id", async () => {
		const before = Math.floor(Date.now() / 1000);
		const res = await iceServers(api, room.roomId, room.hostToken);
		const afterwards = Math.floor(Date.now() / 1000);
		assert.equal(res.statusCode, 200, res.body);
		assert.equal(res.headers["cache-control"], "no-store");
		const { iceServers: servers } = res.json<IceServersResponse>();
		assert.equal(servers.length, 1);
		const [server] = servers;
		assert.ok(server);
		assert.deepEqual(server.urls, turnUrls);
		const match = /^(\d+):(.+)$/.exec(server.username ?? "");
		assert.ok(match, server.username);
		const expiry = Number(match[1]);
		assert.equal(match[2], room.peerId);
		assert.ok(expiry >= before + 3600 && expiry <= afterwards + 3600, `expiry ${expiry}`);
		const expected = createHmac("sha1", turnSecret)
			.update(server.username ?? "")
			.digest("base64");
		assert.equal(server.credential, expected);
	});

	test("an admitted guest's token works too", async () => {
		const k = await knock(api, room.roomId, "Guest");
		const admitted = await decide(api, room.roomId, k.knockId, "admit", room.hostToken);
		const token = JSON.parse((await api.redis.get(redisKeys.knock(k.knockId))) ?? "{}").admittedToken as string;
		const res = await iceServers(api, room.roomId, token);
		assert.equal(res.statusCode, 200);
		assert.match(
			res.json<IceServersResponse>().iceServers[0]?.username ?? "",
			new RegExp(`:${admitted.json().peerId}$`),
		);
	});

	test("no token, a bad token, another room's token or a revoked one → 401", async () => {
		assert.equal((await iceServers(api, room.roomId)).statusCode, 401);
		assert.equal((await iceServers(api, room.roomId, "not-a-token")).statusCode, 401);
		const other = await createRoom(api);
		const wrongRoom = await iceServers(api, room.roomId, other.hostToken);
		assert.equal(wrongRoom.statusCode, 401);
		assert.doesNotMatch(wrongRoom.body, /turn:/);

		await api.redis.sAdd(redisKeys.roomRevoked(other.roomId), other.peerId);
		const revoked = await iceServers(api, other.roomId, other.hostToken);
		assert.equal(revoked.statusCode, 401);
		assert.equal(revoked.json().message, "token was revoked");
	});
});

describe("ICE servers without TURN", () => {
	let api: TestApi;

	before(async () => {
		api = await startTestApi();
		await registerNode(api.redis, { id: "node-a" });
	});
	after(async () => {
		await api?.close();
	});

	test("an empty list for a participant, 401 without a token", async () => {
		const room = await createRoom(api);
		const res = await iceServers(api, room.roomId, room.hostToken);
		assert.equal(res.statusCode, 200);
		assert.deepEqual(res.json(), { iceServers: [] });
		assert.equal((await iceServers(api, room.roomId)).statusCode, 401);
	});
});
