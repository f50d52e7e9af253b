/**
 * A short seeded fuzz run (issue 9) against the real processes: hostile
 * protoo frames and HTTP requests must never take the SFU or the API down,
 * never get a 5xx or an `internal` error, never change Redis when refused,
 * and leave the room working. The full run is `npm run fuzz`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { type RoomInfo, signalingRoomParam, signalingTokenParam } from "@mindmeet/protocol";
import { knockOverHttp, SignalingPeer } from "@mindmeet/testing/signaling-peer";
import { WebSocket } from "ws";
import { runFuzz } from "../scripts/fuzz/run.ts";
import { freePort, type Stack, startStack } from "../scripts/stack.ts";

// A fixed seed, so a failure here replays the same way (FUZZ_SEED overrides it).
const seed = Number(process.env.FUZZ_SEED ?? 20261130);

describe("fuzzing (short run)", { timeout: 300_000 }, () => {
	it(`survives 500 protoo frames and 500 HTTP requests, seed ${seed}`, async () => {
		const report = await runFuzz({ seed, protooMessages: 500, protooConnections: 5, httpRequests: 500 });
		assert.ok(report.protoo.sent >= 500, `only ${report.protoo.sent} protoo frames sent`);
		assert.ok(report.http.sent >= 500, `only ${report.http.sent} HTTP requests sent`);
		assert.ok(report.http.routes > 5, `only ${report.http.routes} routes in the OpenAPI document`);
		assert.ok(report.http.refusedBatchesCompared > 0, "no batch of refused requests was compared with Redis");
		assert.ok(report.protoo.controlPings.ok > 0, "the control peer never answered a ping");
		assert.equal(report.protoo.freshPeerJoined, true, "a fresh peer could not join after the run");
		assert.deepEqual(report.failures, [], `seed ${seed}:\n${report.failures.join("\n")}`);
	});
});

/**
 * Frames the fuzzer found to matter, each on its own so a failure names it.
 * `null` is valid JSON that protoo-server's Message.parse reads a property
 * of (typeof null === "object"): found by the fuzzer, it took the SFU down.
 */
describe("single hostile protoo frames through the API's proxy", { timeout: 120_000 }, () => {
	let stack: Stack;
	let roomId: string;
	let hostToken: string;
	let control: SignalingPeer;

	before(async () => {
		stack = await startStack({ apiPort: await freePort(), output: "ignore", logLevel: "warn" });
		const response = await fetch(`${stack.url}/api/rooms`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ hostName: "Host", mode: "audio" }),
		});
		({ roomId, hostToken } = (await response.json()) as { roomId: string; hostToken: string });
		control = await SignalingPeer.connect(stack.url, roomId, hostToken);
		await control.join();
	});

	after(async () => {
		control?.close();
		await stack?.stop();
	});

	// `null` last: while it takes the SFU down, the cases after it would fail for that reason, not their own.
	for (const frame of ["[null]", "0", "true", '"x"', "[]", '{"request":null}', "null"]) {
		it(`an admitted peer sending ${frame} leaves the SFU up and the room working`, async () => {
			const sfuPid = stack.pid("sfu");
			const pending = await knockOverHttp(stack.url, roomId, "Guest");
			const admit = await fetch(`${stack.url}/api/rooms/${roomId}/knocks/${pending.knock.knockId}/admit`, {
				method: "POST",
				headers: { authorization: `Bearer ${hostToken}` },
			});
			assert.equal(admit.status, 200);
			const { token } = await pending.admitted;
			const info = (await (await fetch(`${stack.url}/api/rooms/${roomId}`)).json()) as RoomInfo;
			const url = new URL(info.sfuUrl, stack.url.replace(/^http/, "ws"));
			url.searchParams.set(signalingTokenParam, token);
			url.searchParams.set(signalingRoomParam, roomId);
			const socket = new WebSocket(url, "protoo");
			socket.on("error", () => {});
			await once(socket, "open");
			socket.send(frame);
			// A request after it: answered once the SFU has read the frame before it (frames are read in order).
			socket.send(JSON.stringify({ request: true, id: 1, method: "ping", data: {} }));
			const answer = await new Promise<string>((resolve) => {
				socket.on("message", (data) => {
					if (String(data).includes('"response":true')) resolve(String(data));
				});
				socket.on("close", (code) => resolve(`closed ${code}`));
			});
			socket.close();
			assert.equal(stack.pid("sfu"), sfuPid, `the SFU exited after the text frame ${frame}`);
			assert.equal(stack.restarts("sfu"), 0, `the SFU was restarted after the text frame ${frame}`);
			assert.match(answer, /"response":true/, `no answer to a ping after ${frame}: ${answer}`);
			const pong = await control.request("ping", {});
			assert.equal(typeof pong.now, "number", "the control peer in the room stopped answering");
		});
	}
});
