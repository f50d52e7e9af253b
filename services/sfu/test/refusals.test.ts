import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys, tokenAudience, tokenIssuer } from "@mindmeet/protocol";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createRoom, eventually, mint, type Rig, signalingUrl, startRig, TestPeer } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

/** Connect and expect a `refused` notification followed by the socket closing. */
async function expectRefusal(url: string, reason: string): Promise<string> {
	const peer = new TestPeer(url);
	const refused = await peer.notification("refused");
	await peer.closedEvent();
	assert.equal(refused.reason, reason);
	assert.ok(refused.message.length > 0, "refusal carries a human-readable message");
	return refused.message;
}

/** A key of our own, published like the API's, so tokens can carry any claims. */
async function ownKey(publish: boolean) {
	const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
	const kid = `test-${Math.random().toString(36).slice(2)}`;
	if (publish) {
		await rig.redis.set(redisKeys.tokenKey(kid), JSON.stringify({ ...(await exportJWK(publicKey)), alg: "EdDSA" }), {
			EX: 600,
		});
	}
	return async (room: string, exp: number) =>
		new SignJWT({ room, name: "Eve", role: "host" })
			.setProtectedHeader({ alg: "EdDSA", kid })
			.setSubject("eve")
			.setJti("jti-eve")
			.setIssuedAt(exp - 600)
			.setExpirationTime(exp)
			.setIssuer(tokenIssuer)
			.setAudience(tokenAudience)
			.sign(privateKey);
}

test("a connection without a token is refused with token-missing", async () => {
	const room = await createRoom(rig);
	await expectRefusal(signalingUrl(rig, { roomId: room }), "token-missing");
});

test("a token signed by a key the API never published is refused", async () => {
	const room = await createRoom(rig);
	const sign = await ownKey(false);
	const token = await sign(room, Math.floor(Date.now() / 1000) + 300);
	await expectRefusal(signalingUrl(rig, { token, roomId: room }), "token-invalid");
});

test("a token whose payload was altered is refused", async () => {
	const room = await createRoom(rig);
	const other = await createRoom(rig);
	const { token } = await mint(rig, room, { role: "guest" });
	const [header, payload, signature] = token.split(".") as [string, string, string];
	const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
	const forged = Buffer.from(JSON.stringify({ ...claims, room: other, role: "host" })).toString("base64url");
	await expectRefusal(signalingUrl(rig, { token: `${header}.${forged}.${signature}`, roomId: other }), "token-invalid");
});

test("garbage in place of a token is refused", async () => {
	const room = await createRoom(rig);
	await expectRefusal(signalingUrl(rig, { token: "not.a.jwt", roomId: room }), "token-invalid");
	await expectRefusal(signalingUrl(rig, { token: "x".repeat(5000), roomId: room }), "token-invalid");
});

test("an expired token is refused with token-expired", async () => {
	const room = await createRoom(rig);
	const sign = await ownKey(true);
	const token = await sign(room, Math.floor(Date.now() / 1000) - 60);
	await expectRefusal(signalingUrl(rig, { token, roomId: room }), "token-expired");
});

test("a token for another room is refused with wrong-room", async () => {
	const mine = await createRoom(rig);
	const theirs = await createRoom(rig);
	const { token } = await mint(rig, mine);
	await expectRefusal(signalingUrl(rig, { token, roomId: theirs }), "wrong-room");
	await expectRefusal(signalingUrl(rig, { token }), "wrong-room");
});

test("a valid token for a room that does not exist is refused with room-not-found", async () => {
	const { token } = await mint(rig, "gone000000");
	await expectRefusal(signalingUrl(rig, { token, roomId: "gone000000" }), "room-not-found");
	assert.equal(rig.sfu.rooms.rooms.size, 0, "no room was opened for it");
});

test("refusals leave an open room and its peers untouched", async () => {
	const room = await createRoom(rig);
	const { token, peerId } = await mint(rig, room, { name: "Bia" });
	const member = new TestPeer(signalingUrl(rig, { token, roomId: room }));
	await member.opened();
	await member.request("getRouterRtpCapabilities", {});
	await expectRefusal(signalingUrl(rig, { roomId: room }), "token-missing");
	await expectRefusal(signalingUrl(rig, { token: "bad", roomId: room }), "token-invalid");
	const caps = await member.request("getRouterRtpCapabilities", {});
	assert.ok(caps.codecs && caps.codecs.length > 0);
	assert.ok(rig.sfu.rooms.rooms.get(room)?.peers.has(peerId));
	member.close();
	await eventually(() => !rig.sfu.rooms.rooms.has(room), "the room closes when its last peer leaves");
});
