/**
 * GET /api/rooms/:roomId hands out the router capabilities the room's SFU
 * node published (browsers load their media device with them before they
 * hold a token), exactly as published, and leaves them out, without failing,
 * when the node published none or something malformed: the browser then
 * asks the SFU after joining. The fixture is what a real router of the SFU's
 * codecs answered (services/sfu/test/rtp-capabilities.test.ts compares the
 * published record with real routers).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { type CreateRoomResponse, type RoomInfo, sfuRtpCapabilitiesKey } from "@mindmeet/protocol";
import { clearNodes, registerNode, startTestApi, type TestApi } from "./helpers.ts";

const routerCapabilities = JSON.parse(
	readFileSync(new URL("./fixtures/router-rtp-capabilities.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

let api: TestApi;
before(async () => {
	api = await startTestApi({ ROOM_CREATE_RATE_LIMIT: "100000" });
});
after(async () => {
	await api?.close();
});

async function roomOn(nodeId: string): Promise<string> {
	await clearNodes(api.redis);
	await api.redis.del(sfuRtpCapabilitiesKey);
	await registerNode(api.redis, { id: nodeId });
	const res = await api.app.inject({ method: "POST", url: "/api/rooms", payload: { hostName: "Ana", mode: "video" } });
	assert.equal(res.statusCode, 201);
	return res.json<CreateRoomResponse>().roomId;
}

async function roomInfo(roomId: string): Promise<RoomInfo> {
	const res = await api.app.inject({ method: "GET", url: `/api/rooms/${roomId}` });
	assert.equal(res.statusCode, 200);
	return res.json<RoomInfo>();
}

test("GET gives the capabilities the room's node published, every field as published", async () => {
	const roomId = await roomOn("node-a");
	await api.redis.hSet(sfuRtpCapabilitiesKey, "node-a", JSON.stringify(routerCapabilities));
	const info = await roomInfo(roomId);
	assert.deepStrictEqual(info.routerRtpCapabilities, routerCapabilities);
	assert.equal(info.sfuUrl, "/sfu/node-a");
});

test("GET leaves them out when the room's node published none (another node's are not its)", async () => {
	const roomId = await roomOn("node-a");
	await api.redis.hSet(sfuRtpCapabilitiesKey, "node-b", JSON.stringify(routerCapabilities));
	assert.deepStrictEqual(await roomInfo(roomId), { roomId, mode: "video", sfuUrl: "/sfu/node-a" });
});

test("GET leaves out malformed capabilities and still answers", async () => {
	const roomId = await roomOn("node-a");
	const codecs = routerCapabilities.codecs as Record<string, unknown>[];
	const malformed = [
		"not json {",
		"null",
		'"a string"',
		JSON.stringify({ headerExtensions: [] }),
		JSON.stringify({ codecs: [] }),
		JSON.stringify({ codecs: [{ ...codecs[0], preferredPayloadType: "100" }] }),
		JSON.stringify({ codecs: [{ ...codecs[0], kind: "data" }] }),
		JSON.stringify({ codecs, headerExtensions: [{ kind: "video", uri: "urn:x", preferredId: 0 }] }),
		JSON.stringify({ codecs: [{ ...codecs[0], parameters: { apt: { nested: true } } }] }),
	];
	for (const record of malformed) {
		await api.redis.hSet(sfuRtpCapabilitiesKey, "node-a", record);
		assert.deepStrictEqual(await roomInfo(roomId), { roomId, mode: "video", sfuUrl: "/sfu/node-a" }, record);
	}
});
