/**
 * parseRecord and the schemas of every JSON record in Redis: what each writer
 * (API, SFU) writes passes; anything else (no record, not JSON, wrong types,
 * missing fields, values off the contract) reads as undefined; unknown extra
 * fields are tolerated and kept.
 */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import {
	ChatMessage,
	LobbyGuestEvent,
	LobbyHostEvent,
	limits,
	RoomPresence,
	SfuCommand,
	SfuNodeStatus,
	StoredAccount,
	StoredHostSession,
	StoredKnock,
	StoredRoom,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { PublishedTokenKey } from "@mindmeet/protocol/token-keys";
import type { TSchema } from "@sinclair/typebox";

const now = Date.now();
const peerId = "Vh3kP9xq2LmZ"; // nanoid(12), as the API makes them
const roomId = "k7Hq2mXp9a"; // roomIdLength characters of roomIdAlphabet
const knockId = "aB3dE6gH9jK2mN5p"; // nanoid(16)

/** Records as each writer builds them (same fields, same value shapes). */
const written = {
	/** API, rooms plugin (POST /api/rooms). */
	room: { id: roomId, mode: "audio", hostName: "Ana Ção 🎉", createdAt: now, sfuNode: "sfu-1", hostPeerId: peerId },
	/** API, KnockStore.create, then settle (admission) and forgetToken. */
	knock: {
		id: knockId,
		roomId,
		name: "Bia",
		createdAt: now,
		expiresAt: now + 120_000,
		status: "pending",
		secretHash: createHash("sha256").update(randomBytes(32).toString("base64url")).digest("hex"),
	},
	/** SFU, Room#presenceOf. */
	presence: {
		peerId,
		name: "Caio",
		role: "host",
		joinedAt: now,
		producers: [
			{ id: randomUUID(), kind: "audio", source: "mic", paused: true },
			{ id: randomUUID(), kind: "video", source: "cam", paused: false },
			{ id: randomUUID(), kind: "video", source: "screen", paused: false },
		],
	},
	/** SFU, NodeRegistry.beat (publicUrl only when configured). */
	node: { id: "sfu-1", signalingUrl: "ws://127.0.0.1:4443", peers: 3, rooms: 1, workers: 2, heartbeatAt: now },
	/** API, AccountStore.create / setPassword. */
	account: {
		name: "ana.silva",
		passwordHash: `scrypt$16384$8$1$${randomBytes(16).toString("base64url")}$${randomBytes(32).toString("base64url")}`,
		createdAt: now,
		epoch: randomBytes(12).toString("base64url"),
	},
	/** API, SessionStore.create in password mode (the team password's fingerprint) and accounts mode. */
	passwordSession: { mode: "password", epoch: randomBytes(16).toString("hex"), expiresAt: now + 3_600_000 },
	accountSession: { mode: "accounts", name: "ana.silva", epoch: randomBytes(12).toString("base64url"), expiresAt: now },
	/** SFU, Room#sendChat. */
	chat: { id: randomUUID(), peerId, name: "Duda", text: "oi, tudo bem?\nsim", sentAt: now },
	/** API, admin plugin. */
	kick: { type: "kick", roomId, peerId },
	closeRoom: { type: "close-room", roomId },
	/** API, TokenSigner.create: the public JWK of the signing key (it adds `alg`, an extra field the verifier ignores). */
	tokenKey: generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }) as {
		kty: string;
		crv: string;
		x: string;
	},
} as const;

const json = (value: unknown) => JSON.stringify(value);

/** Every field of `record` left out in turn, and set to each value of the wrong type. */
function eachBrokenField(record: Record<string, unknown>): { what: string; value: unknown }[] {
	const wrongTypes = [null, 7, "7", true, [], {}];
	const broken: { what: string; value: unknown }[] = [];
	for (const [field, original] of Object.entries(record)) {
		const { [field]: _left, ...without } = record;
		broken.push({ what: `without ${field}`, value: without });
		for (const wrong of wrongTypes) {
			if (typeof wrong === typeof original && Array.isArray(wrong) === Array.isArray(original)) continue;
			if (wrong === null && original === null) continue;
			broken.push({ what: `${field}: ${json(wrong)}`, value: { ...record, [field]: wrong } });
		}
	}
	return broken;
}

/** Fields a schema declares optional: leaving them out is fine. */
const optional: Record<string, Set<string>> = {
	accountSession: new Set(["name"]),
	room: new Set(["hostPeerId"]),
};

const cases: { name: keyof typeof written; schema: TSchema }[] = [
	{ name: "room", schema: StoredRoom },
	{ name: "knock", schema: StoredKnock },
	{ name: "presence", schema: RoomPresence },
	{ name: "node", schema: SfuNodeStatus },
	{ name: "account", schema: StoredAccount },
	{ name: "passwordSession", schema: StoredHostSession },
	{ name: "accountSession", schema: StoredHostSession },
	{ name: "chat", schema: ChatMessage },
	{ name: "kick", schema: SfuCommand },
	{ name: "closeRoom", schema: SfuCommand },
	{ name: "tokenKey", schema: PublishedTokenKey },
];

describe("parseRecord", () => {
	test("no record, not JSON, or JSON that is not an object → undefined", () => {
		for (const input of [
			null,
			undefined,
			"",
			"{not json",
			"{",
			"nul",
			"undefined",
			"null",
			"42",
			'"room"',
			"[]",
			"true",
		]) {
			assert.equal(parseRecord(StoredRoom, input), undefined, String(input));
		}
	});

	test("a record that matches comes back as it was stored", () => {
		assert.deepEqual(parseRecord(StoredRoom, json(written.room)), written.room);
	});

	test("unknown extra fields are tolerated and kept (another version may have written them)", () => {
		const newer = { ...written.room, region: "eu", capacity: 12, nested: { a: [1] } };
		assert.deepEqual(parseRecord(StoredRoom, json(newer)), newer);
		const knock = { ...written.knock, admittedPeerId: peerId, admittedToken: "eyJ.a.b" };
		assert.deepEqual(parseRecord(StoredKnock, json(knock)), knock);
	});

	test("the same schema checks many records in a row, good and bad alike", () => {
		for (let i = 0; i < 100; i++) {
			assert.ok(parseRecord(SfuNodeStatus, json({ ...written.node, peers: i })));
			assert.equal(parseRecord(SfuNodeStatus, json({ ...written.node, peers: -1 - i })), undefined);
		}
	});
});

describe("each record as its writer writes it passes; a broken one does not", () => {
	for (const { name, schema } of cases) {
		test(name, () => {
			const record = written[name] as Record<string, unknown>;
			assert.deepEqual(parseRecord(schema, json(record)), record, "as written");
			assert.deepEqual(parseRecord(schema, json({ ...record, extra: "x" })), { ...record, extra: "x" }, "with extras");
			for (const { what, value } of eachBrokenField(record)) {
				const field = what.startsWith("without ") ? what.slice("without ".length) : undefined;
				if (field && optional[name]?.has(field)) {
					assert.ok(parseRecord(schema, json(value)), `${name} ${what} is fine`);
				} else {
					assert.equal(parseRecord(schema, json(value)), undefined, `${name} ${what}`);
				}
			}
		});
	}
});

describe("constraints: what no writer writes is refused", () => {
	test("rooms: mode is video or audio; ids and names are not empty; no hostPeerId is an old record", () => {
		const { room } = written;
		assert.ok(parseRecord(StoredRoom, json({ ...room, mode: "video" })));
		assert.equal(parseRecord(StoredRoom, json({ ...room, mode: "screen" })), undefined);
		for (const field of ["id", "hostName", "sfuNode", "hostPeerId"]) {
			assert.equal(parseRecord(StoredRoom, json({ ...room, [field]: "" })), undefined, field);
		}
		const { hostPeerId: _first, ...old } = room;
		assert.deepEqual(parseRecord(StoredRoom, json(old)), old);
	});

	test("knocks: every status of the lifecycle, nothing else", () => {
		for (const status of ["pending", "admitted", "denied", "cancelled", "expired"]) {
			assert.ok(parseRecord(StoredKnock, json({ ...written.knock, status })), status);
		}
		for (const status of ["waiting", "PENDING", ""]) {
			assert.equal(parseRecord(StoredKnock, json({ ...written.knock, status })), undefined, status);
		}
	});

	test("presence: roles, producer kinds and sources are the protocol's; a bad producer spoils the entry", () => {
		const { presence } = written;
		assert.ok(parseRecord(RoomPresence, json({ ...presence, role: "guest", producers: [] })));
		assert.equal(parseRecord(RoomPresence, json({ ...presence, role: "admin" })), undefined);
		const [mic] = presence.producers;
		for (const bad of [
			{ ...mic, kind: "data" },
			{ ...mic, source: "window" },
			{ ...mic, paused: "no" },
			{ ...mic, id: "" },
			null,
			"mic",
		]) {
			assert.equal(parseRecord(RoomPresence, json({ ...presence, producers: [bad] })), undefined, json(bad));
		}
	});

	test("nodes: counts are whole and not negative; publicUrl, when there, is not empty", () => {
		const { node } = written;
		assert.ok(parseRecord(SfuNodeStatus, json({ ...node, publicUrl: "wss://sfu-1.example.test" })));
		assert.ok(parseRecord(SfuNodeStatus, json({ ...node, peers: 0, rooms: 0, workers: 0 })));
		for (const field of ["peers", "rooms", "workers"]) {
			for (const bad of [-1, 1.5, "3"]) {
				assert.equal(parseRecord(SfuNodeStatus, json({ ...node, [field]: bad })), undefined, `${field} ${bad}`);
			}
		}
		assert.equal(parseRecord(SfuNodeStatus, json({ ...node, publicUrl: "" })), undefined);
		assert.equal(parseRecord(SfuNodeStatus, json({ ...node, id: "" })), undefined);
		// JSON has no NaN or Infinity: JSON.stringify writes null, which is refused.
		assert.equal(parseRecord(SfuNodeStatus, json({ ...node, heartbeatAt: Number.NaN })), undefined);
		assert.equal(parseRecord(SfuNodeStatus, '{"id":"a","signalingUrl":"ws://x","peers":1e999}'), undefined);
	});

	test("sessions: password or accounts mode; the name, when there, is not empty", () => {
		assert.equal(parseRecord(StoredHostSession, json({ ...written.passwordSession, mode: "open" })), undefined);
		assert.equal(parseRecord(StoredHostSession, json({ ...written.accountSession, name: "" })), undefined);
		assert.equal(parseRecord(StoredAccount, json({ ...written.account, epoch: "" })), undefined);
	});

	test("chat: the longest message and name the SFU accepts pass; longer or empty ones do not", () => {
		const { chat } = written;
		// chatMaxLength characters outside the BMP: twice as many UTF-16 units.
		const longest = "🎉".repeat(limits.chatMaxLength);
		const longName = "🎉".repeat(limits.nameMaxLength);
		assert.ok(parseRecord(ChatMessage, json({ ...chat, text: longest, name: longName })));
		assert.equal(parseRecord(ChatMessage, json({ ...chat, text: `${longest}!` })), undefined);
		assert.equal(parseRecord(ChatMessage, json({ ...chat, name: `${longName}!` })), undefined);
		assert.equal(parseRecord(ChatMessage, json({ ...chat, text: "" })), undefined);
		assert.equal(parseRecord(ChatMessage, json({ ...chat, id: "" })), undefined);
		assert.equal(parseRecord(ChatMessage, json({ ...chat, id: "x".repeat(65) })), undefined);
	});

	test("commands: kick needs a peer id; ids are 1..64 characters; unknown types are refused", () => {
		assert.equal(parseRecord(SfuCommand, json({ type: "kick", roomId })), undefined);
		assert.equal(parseRecord(SfuCommand, json({ type: "explode", roomId })), undefined);
		assert.equal(parseRecord(SfuCommand, json({ type: "close-room", roomId: "r".repeat(65) })), undefined);
		assert.equal(parseRecord(SfuCommand, json({ type: "kick", roomId, peerId: "" })), undefined);
		assert.ok(parseRecord(SfuCommand, json({ type: "kick", roomId: "r".repeat(64), peerId: "p".repeat(64) })));
		// A close-room with a stray peer id is still a close-room.
		assert.ok(parseRecord(SfuCommand, json({ type: "close-room", roomId, peerId })));
	});
});

describe("lobby events on Redis channels", () => {
	const knockInfo = { id: knockId, name: "Bia", createdAt: now, expiresAt: now + 120_000 };

	test("every event a publisher sends passes (API knocks and admin, SFU host handover)", () => {
		const hostEvents = [
			{ type: "knock", knock: knockInfo },
			...["admitted", "denied", "cancelled", "expired"].map((end) => ({ type: "knock-ended", knockId, end })),
			{ type: "host-changed", peerId },
			{ type: "room-closed" },
			{ type: "knocks", knocks: [knockInfo] },
		];
		for (const event of hostEvents) assert.deepEqual(parseRecord(LobbyHostEvent, json(event)), event, event.type);
		const guestEvents = [
			{ type: "admitted", token: "eyJhbGciOiJFZERTQSJ9.e30.c2ln", peerId },
			{ type: "denied" },
			{ type: "expired" },
			{ type: "room-closed" },
			{ type: "waiting", expiresAt: now },
		];
		for (const event of guestEvents) assert.deepEqual(parseRecord(LobbyGuestEvent, json(event)), event, event.type);
	});

	test("events off the contract are refused", () => {
		for (const event of [
			{ type: "knock" },
			{ type: "knock", knock: { ...knockInfo, name: "" } },
			{ type: "knock-ended", knockId, end: "vanished" },
			{ type: "host-changed" },
			{ type: "host-changed", peerId: 7 },
			{ type: "knocks", knocks: [null] },
			{ type: "nonsense" },
			{},
		]) {
			assert.equal(parseRecord(LobbyHostEvent, json(event)), undefined, json(event));
		}
		for (const event of [
			{ type: "admitted" },
			{ type: "admitted", token: "", peerId },
			{ type: "admitted", token: "t" },
			{ type: "waiting" },
			{ type: "knock-ended", knockId, end: "denied" },
		]) {
			assert.equal(parseRecord(LobbyGuestEvent, json(event)), undefined, json(event));
		}
	});
});
