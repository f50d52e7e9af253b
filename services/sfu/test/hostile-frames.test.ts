/**
 * Frames no protoo client sends, straight onto an admitted peer's socket:
 * each is ignored (or refused), the connection and the node stay up, and the
 * peer still gets answers. `null` used to take the whole process down (see
 * signaling/null-frame-guard.ts).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectPeer, createRoom, mint, type Rig, signalingUrl, startRig } from "./support.ts";

let rig: Rig;
before(async () => {
	rig = await startRig();
});
after(async () => {
	await rig.close();
});

const hostile: [string, string | Uint8Array][] = [
	["null", "null"],
	["null with spaces", " \n null \t"],
	["a number", "42"],
	["a string", '"request"'],
	["an array", '[{"request":true,"id":1,"method":"ping","data":{}}]'],
	["true", "true"],
	["not JSON", "{request: true"],
	["a request without an id", '{"request":true,"method":"ping","data":{}}'],
	["a request whose data is null", '{"request":true,"id":7,"method":"ping","data":null}'],
	["a response nobody asked for", '{"response":true,"id":99,"ok":true,"data":{}}'],
	["a notification from the client", '{"notification":true,"method":"peerLeft","data":null}'],
	["binary", new Uint8Array([0, 1, 2, 255])],
];

test("hostile frames on an admitted peer's socket are ignored: the node, the room and the peer stay up", async () => {
	const room = await createRoom(rig);
	const witness = await connectPeer(rig, room, { name: "Witness" });
	const { token } = await mint(rig, room, { name: "Mallory" });
	const socket = new WebSocket(signalingUrl(rig, { token, roomId: room }), "protoo");
	await new Promise<void>((resolve, reject) => {
		socket.addEventListener("open", () => resolve(), { once: true });
		socket.addEventListener("error", () => reject(new Error("the socket did not open")), { once: true });
	});
	const answers = new Map<number, unknown>();
	socket.addEventListener("message", (event) => {
		const message = JSON.parse(String(event.data)) as { response?: boolean; id?: number };
		if (message.response && typeof message.id === "number") answers.set(message.id, message);
	});
	let closed = false;
	socket.addEventListener("close", () => {
		closed = true;
	});

	for (const [what, frame] of hostile) {
		socket.send(frame);
		// After each one, a well-formed ping on the same socket is still answered.
		const id = 1000 + hostile.findIndex(([name]) => name === what);
		socket.send(JSON.stringify({ request: true, id, method: "ping", data: {} }));
		for (let waited = 0; !answers.has(id) && !closed && waited < 100; waited++) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		assert.ok(!closed, `the socket stayed open after ${what}`);
		assert.ok(answers.has(id), `a ping after ${what} was answered`);
	}
	// The other peer never noticed anything.
	const pong = await witness.request("ping", {});
	assert.equal(typeof pong.now, "number");
	assert.ok(rig.sfu.rooms.rooms.get(room), "the room is still open");
	socket.close();
	witness.close();
});
