/**
 * Token renewal (`POST /api/rooms/:roomId/token`): credentials last as long
 * as the person is in the call, carry the role held now, and are refused to
 * anyone who left, was kicked, or holds a bad token.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type CreateRoomResponse,
	type LobbyHostEvent,
	type RenewTokenResponse,
	redisKeys,
	type TokenClaims,
} from "@mindmeet/protocol";
import { redisPublicKeyStore, TokenSigner, TokenVerifier } from "@mindmeet/protocol/token-keys";
import { RenewalLimit } from "../src/renewal/plugin.ts";
import {
	addPresence,
	admitGuest,
	createRoom,
	decide,
	knock,
	listen,
	redisContents,
	registerNode,
	renewToken,
	startTestApi,
	type TestApi,
	watchSocket,
} from "./helpers.ts";

const guestTtl = 120;
const hostTtl = 7200;
const renewalsPerMinute = 4;

describe("token renewal", { timeout: 60_000 }, () => {
	let api: TestApi;
	let base: string;
	let verifier: TokenVerifier;

	before(async () => {
		api = await startTestApi({
			KNOCK_RATE_LIMIT: "100000",
			GUEST_TOKEN_TTL: String(guestTtl),
			HOST_TOKEN_TTL: String(hostTtl),
			TOKEN_RENEWALS_PER_MINUTE: String(renewalsPerMinute),
		});
		await registerNode(api.redis, { id: "node-a" });
		base = await listen(api);
		// A verifier of its own: what the SFU does with a token it has never seen.
		verifier = new TokenVerifier(redisPublicKeyStore(api.redis));
	});
	after(async () => {
		await api?.close();
	});

	/** A room with its host in the call and an admitted guest in the call. */
	async function roomInCall(): Promise<{ room: CreateRoomResponse; guest: { peerId: string; token: string } }> {
		const room = await createRoom(api, "Ana");
		await addPresence(api.redis, room.roomId, { peerId: room.peerId, name: "Ana", role: "host" });
		const guest = await admitGuest(api, base, room.roomId, room.hostToken, "Eva Lima");
		await addPresence(api.redis, room.roomId, { peerId: guest.peerId, name: "Eva Lima" });
		return { room, guest };
	}

	async function renewed(roomId: string, token: string): Promise<{ body: RenewTokenResponse; claims: TokenClaims }> {
		const res = await renewToken(api, roomId, token);
		assert.equal(res.statusCode, 200, res.body);
		assert.equal(res.headers["cache-control"], "no-store");
		const body = res.json<RenewTokenResponse>();
		assert.deepEqual(Object.keys(body).sort(), ["expiresAt", "peerId", "role", "token"]);
		const claims = await verifier.verify(body.token);
		assert.equal(body.expiresAt, claims.exp * 1000);
		return { body, claims };
	}

	async function refused(roomId: string, token: string | undefined, status: number, message: RegExp) {
		const before = await redisContents(api.redis);
		const res = await renewToken(api, roomId, token);
		assert.equal(res.statusCode, status, res.body);
		assert.equal(res.json<{ statusCode: number }>().statusCode, status);
		assert.match(res.json<{ message: string }>().message, message);
		assert.deepEqual(await redisContents(api.redis), before, "a refused renewal changes nothing");
	}

	test("a guest in the call renews: same peer id and name, role guest, the guest lifetime", async () => {
		const { room, guest } = await roomInCall();
		const { body, claims } = await renewed(room.roomId, guest.token);
		assert.equal(body.peerId, guest.peerId);
		assert.equal(body.role, "guest");
		assert.notEqual(body.token, guest.token);
		assert.equal(claims.sub, guest.peerId);
		assert.equal(claims.name, "Eva Lima");
		assert.equal(claims.room, room.roomId);
		assert.equal(claims.role, "guest");
		assert.equal(claims.exp - claims.iat, guestTtl);

		// The renewed token renews in turn: a meeting lasts as long as the person stays.
		const again = await renewed(room.roomId, body.token);
		assert.equal(again.body.peerId, guest.peerId);
	});

	test("the host renews with role host and the host lifetime", async () => {
		const { room } = await roomInCall();
		const { body, claims } = await renewed(room.roomId, room.hostToken);
		assert.equal(body.role, "host");
		assert.equal(body.peerId, room.peerId);
		assert.equal(claims.name, "Ana");
		assert.equal(claims.exp - claims.iat, hostTtl);
	});

	test("a guest promoted to host gets a host token that opens the lobby and admits at once", async () => {
		const { room, guest } = await roomInCall();
		// The SFU's handover: the host key names the new host.
		await api.redis.set(redisKeys.roomHost(room.roomId), guest.peerId, { KEEPTTL: true });
		const { body, claims } = await renewed(room.roomId, guest.token);
		assert.equal(body.role, "host");
		assert.equal(claims.role, "host");
		assert.equal(claims.exp - claims.iat, hostTtl);

		const lobby = watchSocket<LobbyHostEvent>(
			`${base}/api/rooms/${room.roomId}/lobby?token=${encodeURIComponent(body.token)}`,
		);
		assert.deepEqual(await lobby.next(), { type: "knocks", knocks: [] });
		const k = await knock(api, room.roomId, "Caio");
		const shown = await lobby.next();
		assert.equal(shown.type, "knock");
		const admit = await decide(api, room.roomId, k.knockId, "admit", body.token);
		assert.equal(admit.statusCode, 200, admit.body);
		lobby.socket.close();
		await lobby.closed;

		// And the former host, still in the call, now renews as a guest with the guest lifetime.
		const former = await renewed(room.roomId, room.hostToken);
		assert.equal(former.body.role, "guest");
		assert.equal(former.claims.exp - former.claims.iat, guestTtl);
	});

	test("two renewals at once both succeed with distinct, valid tokens", async () => {
		const { room, guest } = await roomInCall();
		const [a, b] = await Promise.all([
			renewToken(api, room.roomId, guest.token),
			renewToken(api, room.roomId, guest.token),
		]);
		assert.equal(a?.statusCode, 200, a?.body);
		assert.equal(b?.statusCode, 200, b?.body);
		const ta = a.json<RenewTokenResponse>().token;
		const tb = b.json<RenewTokenResponse>().token;
		assert.notEqual(ta, tb);
		assert.equal((await verifier.verify(ta)).sub, guest.peerId);
		assert.equal((await verifier.verify(tb)).sub, guest.peerId);
		// Both stay usable: nothing was consumed by the other.
		assert.equal((await renewToken(api, room.roomId, ta)).statusCode, 200);
		assert.equal((await renewToken(api, room.roomId, tb)).statusCode, 200);
	});

	test(`more than ${renewalsPerMinute} renewals a minute by one peer → 429 with Retry-After; others unaffected`, async () => {
		const { room, guest } = await roomInCall();
		const results = await Promise.all(
			Array.from({ length: renewalsPerMinute + 2 }, () => renewToken(api, room.roomId, guest.token)),
		);
		const codes = results.map((r) => r.statusCode).sort();
		assert.deepEqual(codes, [...Array(renewalsPerMinute).fill(200), 429, 429]);
		const limited = results.find((r) => r.statusCode === 429);
		assert.ok(limited);
		assert.match(String(limited.headers["retry-after"]), /^\d+$/);
		assert.ok(Number(limited.headers["retry-after"]) >= 1);
		assert.match(limited.json<{ message: string }>().message, /too many token renewals/);
		// A token renewed from the same peer shares its budget: renewing in a loop gets nowhere.
		const fresh = results.find((r) => r.statusCode === 200)?.json<RenewTokenResponse>().token;
		assert.ok(fresh);
		assert.equal((await renewToken(api, room.roomId, fresh)).statusCode, 429);
		// The host of the same room has its own.
		assert.equal((await renewToken(api, room.roomId, room.hostToken)).statusCode, 200);
	});

	test("no token, a malformed or forged one, an expired one, another room's → 401", async () => {
		const { room, guest } = await roomInCall();
		await refused(room.roomId, undefined, 401, /bearer token for this room is required/);
		await refused(room.roomId, "not-a-token", 401, /malformed/);
		const [header, payload, signature] = guest.token.split(".");
		const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as TokenClaims;
		const forged = Buffer.from(JSON.stringify({ ...claims, role: "host", exp: claims.exp + 86_400 })).toString(
			"base64url",
		);
		await refused(room.roomId, `${header}.${forged}.${signature}`, 401, /signature|invalid/);

		// Signed by a key nobody published: refused as unknown, not as unavailable.
		const stranger = await TokenSigner.create({ get: async () => null, set: async () => {} }, 3600);
		const unknownKey = await stranger.sign({
			room: room.roomId,
			peerId: guest.peerId,
			name: "x",
			role: "guest",
			ttlSeconds: 60,
		});
		await refused(room.roomId, unknownKey.token, 401, /unknown key/);

		const signer = await TokenSigner.create(redisPublicKeyStore(api.redis), 3600);
		const expired = await signer.sign({
			room: room.roomId,
			peerId: guest.peerId,
			name: "Eva Lima",
			role: "guest",
			ttlSeconds: -60,
		});
		await refused(room.roomId, expired.token, 401, /expired/);

		const other = await roomInCall();
		await refused(room.roomId, other.guest.token, 401, /another room/);
		// The right token sent to another room's URL is refused the same way.
		await refused(other.room.roomId, guest.token, 401, /another room/);
	});

	test("a kicked (revoked) peer cannot renew, even while its presence lingers → 401", async () => {
		const { room, guest } = await roomInCall();
		await api.redis.sAdd(redisKeys.roomRevoked(room.roomId), guest.peerId);
		await refused(room.roomId, guest.token, 401, /revoked/);
	});

	test("someone who is not in the call (left, or never joined) → 403", async () => {
		const { room, guest } = await roomInCall();
		await api.redis.hDel(redisKeys.roomPeers(room.roomId), guest.peerId);
		await refused(room.roomId, guest.token, 403, /in the call/);
		// Admitted but never joined the call: same answer.
		const late = await admitGuest(api, base, room.roomId, room.hostToken, "Late");
		await refused(room.roomId, late.token, 403, /in the call/);
	});

	test("a room that is gone → 404; a malformed room id → 404", async () => {
		const { room, guest } = await roomInCall();
		await api.redis.del(redisKeys.room(room.roomId));
		await refused(room.roomId, guest.token, 404, /room not found/);
		await refused("x".repeat(100), guest.token, 404, /room not found/);
	});

	test("the endpoint is in the OpenAPI document, with the room token scheme and its answers", async () => {
		const res = await api.app.inject({ method: "GET", url: "/api/openapi.json" });
		const doc = res.json<{
			paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>>;
		}>();
		const operation = doc.paths["/api/rooms/{roomId}/token"]?.post;
		assert.ok(operation, "POST /api/rooms/{roomId}/token is documented");
		assert.deepEqual(operation.security, [{ roomToken: [] }]);
		assert.deepEqual(Object.keys(operation.responses ?? {}).sort(), ["200", "401", "403", "404", "429", "503"]);
	});
});

describe("renewal limit (unit)", () => {
	test("counts per key in a one-minute window and reopens after it", () => {
		const limit = new RenewalLimit(2);
		assert.equal(limit.take("a", 0), 0);
		assert.equal(limit.take("a", 1), 0);
		assert.equal(limit.take("a", 2), 60_000 - 2);
		assert.equal(limit.take("b", 2), 0);
		assert.equal(limit.take("a", 60_000), 0);
	});
});
