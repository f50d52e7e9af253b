/**
 * SFU shutdown (SIGTERM runs sfu.close()) is "unavailable", never final:
 * nobody is sent `refused`, `roomClosed` or `kicked`, and sockets end without
 * protoo's close code 4000, so clients keep their credentials and come back
 * once the node is up again. The room's keys get the grace period to wait
 * for them.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { redisKeys } from "@mindmeet/protocol";
import { createRoom, eventually, mint, type Rig, signalingUrl, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig({ env: { ROOM_GRACE_SECONDS: "30" } });
});
after(async () => {
	await rig.close();
});

interface RawPeer {
	socket: WebSocket;
	methods: string[];
	closed: Promise<number>;
	request(method: string, data: unknown): Promise<unknown>;
}

/** A bare WebSocket speaking protoo, to see the close code a protoo client hides. */
async function rawPeer(url: string): Promise<RawPeer> {
	const socket = new WebSocket(url, "protoo");
	const methods: string[] = [];
	const pending = new Map<number, (data: unknown) => void>();
	let nextId = 1;
	socket.addEventListener("message", (event) => {
		const message = JSON.parse(String(event.data)) as {
			notification?: boolean;
			request?: boolean;
			response?: boolean;
			id?: number;
			method?: string;
			data?: unknown;
		};
		if (message.method) methods.push(message.method);
		if (message.request) socket.send(JSON.stringify({ response: true, id: message.id, ok: true, data: {} }));
		if (message.response && message.id !== undefined) pending.get(message.id)?.(message.data);
	});
	const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
	await new Promise<void>((resolve, reject) => {
		socket.addEventListener("open", () => resolve(), { once: true });
		socket.addEventListener("error", () => reject(new Error("did not open")), { once: true });
	});
	return {
		socket,
		methods,
		closed,
		request(method, data) {
			const id = nextId++;
			socket.send(JSON.stringify({ request: true, id, method, data }));
			return new Promise((resolve) => pending.set(id, resolve));
		},
	};
}

test("shutdown ends every connection as unavailable: no refusal, no roomClosed, no code 4000", async () => {
	const room = await createRoom(rig);
	const peers: RawPeer[] = [];
	for (const [name, role] of [
		["Ana", "host"],
		["Bia", "guest"],
	] as const) {
		const { token } = await mint(rig, room, { name, role });
		const peer = await rawPeer(signalingUrl(rig, { token, roomId: room }));
		const caps = await peer.request("getRouterRtpCapabilities", {});
		await peer.request("join", { rtpCapabilities: caps });
		peers.push(peer);
	}
	await rig.sfu.close();
	for (const peer of peers) {
		const code = await peer.closed;
		assert.notEqual(code, 4000, "not protoo's 'closed by the server'");
		assert.ok(code === 1006 || code === 1001 || code === 1012, `an abnormal or going-away close, got ${code}`);
		for (const final of ["refused", "roomClosed", "kicked"]) {
			assert.ok(!peer.methods.includes(final), `no ${final}: ${peer.methods.join(",")}`);
		}
	}
	// The room waits for them: its record lives on for the grace period.
	await eventually(async () => {
		const ttl = await rig.redis.pTTL(redisKeys.room(room));
		return ttl > 0 && ttl <= 30_000;
	}, "the room's keys got the grace period");
	// Closing twice (SIGTERM then SIGINT, or a test's cleanup) is harmless.
	await rig.sfu.close();
});
