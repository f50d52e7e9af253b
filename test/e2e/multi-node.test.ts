/**
 * Several SFU nodes (issue 11, item 5): two SFU processes, each in a network
 * namespace of its own with its own address (a veth pair to the root
 * namespace, testing/src/netns.ts), one API and one Redis in the root
 * namespace, Chromium in the root namespace reaching the nodes' media over
 * the veths.
 *
 * - Rooms are placed by load: a new room goes to the node with fewer people.
 * - One room, one node: people connecting to a room at once, through both of
 *   the API's paths (GET /api/rooms/:id and the signaling proxy), while its
 *   node is gone, all land on the one node the record's compare-and-set
 *   chose.
 * - A node SIGKILLed: its rooms' people reconnect by themselves, are placed
 *   on the other node, see each other's video advancing again and find the
 *   chat as it was; the other node's room is never disturbed. Back with
 *   the same id, the old node refuses the moved room (503) and takes the
 *   next new one.
 * - A node cut off from Redis alone (alive, reachable by the API): its
 *   heartbeat goes stale, a newcomer's join moves the room to the other
 *   node, and the proxy moves the people still piped to the old node there
 *   too; back in touch, the old node holds nothing of the room.
 *
 * Node staleness is shortened (SFU_NODE_STALE_SECONDS=4, heartbeats every
 * 0.5 s, the proxy's sweep every 2 s); nothing here asserts how long
 * anything takes. Namespaces, veths and processes are removed in `after`,
 * also when a test failed, and the file fails if any is left.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import {
	type ClientRequests,
	type CreateRoomResponse,
	type PeerInfo,
	type RoomInfo,
	redisKeys,
	type SfuNodeStatus,
	type StoredRoom,
	signalingRoomParam,
	signalingTokenParam,
} from "@mindmeet/protocol";
import { launchChromium, newParticipant } from "@mindmeet/testing/browser";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { mediasoupWorkerPids } from "@mindmeet/testing/faults";
import { answerKnock, knock, tile } from "@mindmeet/testing/flows";
import {
	freeSubnet,
	linkExists,
	makeHost,
	namespaceExists,
	removeAllHosts,
	type TestHost,
} from "@mindmeet/testing/netns";
import {
	chatCount,
	oneTileEach,
	remoteVideoAdvancing,
	roomIdOf,
	startCall,
	storedCredentials,
	tokenOf,
} from "@mindmeet/testing/recovery";
import {
	admitOverHttp,
	createRoomOverHttp,
	knockOverHttp,
	SignalingPeer,
	upgradeStatus,
} from "@mindmeet/testing/signaling-peer";
import type { Browser, BrowserContext } from "playwright-core";
import { createClient } from "redis";
import { freePort, repoRoot } from "../../scripts/stack.ts";

/** Marks every process this file starts (mediasoup workers inherit it), so none can be left behind. */
const marker = `MINDMEET_MULTINODE_ID=${randomBytes(8).toString("hex")}`;
const [markerName = "", markerValue = ""] = marker.split("=");

interface Node {
	id: string;
	host: TestHost;
	port: number;
	process: ChildProcess;
}

let redisProcess: ChildProcess | undefined;
let apiProcess: ChildProcess | undefined;
let redis: ReturnType<typeof createClient> | undefined;
let baseUrl = "";
const nodes: Node[] = [];
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const peers: SignalingPeer[] = [];
const namespaces: string[] = [];
const links: string[] = [];

const signalingPort = 4001;
type JoinAnswer = ClientRequests["join"]["response"];
const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Every live process carrying this file's marker in its environment. */
function markedProcesses(): number[] {
	const found: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (!readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(marker)) continue;
			const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
			if (!stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) found.push(Number(entry));
		} catch {
			// gone meanwhile
		}
	}
	return found;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, name: string): ChildProcess {
	const child = spawn(command, args, { cwd: repoRoot, env: { ...env, [markerName]: markerValue }, stdio: "pipe" });
	let said = "";
	const keep = (chunk: Buffer) => {
		said = (said + chunk.toString()).slice(-4000);
	};
	child.stdout?.on("data", keep);
	child.stderr?.on("data", keep);
	child.once("exit", (code, signal) => {
		if (code !== 0 && signal !== "SIGKILL" && signal !== "SIGTERM") console.error(`${name} exited (${code}):\n${said}`);
	});
	return child;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			if (await check()) return;
		} catch {
			// not yet
		}
		if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

/** What a node's /health says of its load (it also reports Redis and its workers, not compared here). */
async function health(node: Node): Promise<{ ok: boolean; node: string; rooms: number; peers: number }> {
	const response = await fetch(`http://${node.host.address}:${node.port}/health`, {
		signal: AbortSignal.timeout(3_000),
	});
	const {
		ok,
		node: id,
		rooms,
		peers,
	} = (await response.json()) as {
		ok: boolean;
		node: string;
		rooms: number;
		peers: number;
	};
	return { ok, node: id, rooms, peers };
}

function store() {
	if (!redis) throw new Error("Redis is not started");
	return redis;
}

async function roomNode(roomId: string): Promise<string> {
	const json = await store().get(redisKeys.room(roomId));
	if (!json) throw new Error(`room ${roomId} has no record`);
	return (JSON.parse(json) as StoredRoom).sfuNode;
}

/** The registry's view of a node (what the API places rooms by). */
async function registered(id: string): Promise<SfuNodeStatus | undefined> {
	const json = await store().hGet(redisKeys.sfuNodes, id);
	return json ? (JSON.parse(json) as SfuNodeStatus) : undefined;
}

function createRoom(hostName: string): Promise<CreateRoomResponse> {
	return createRoomOverHttp(baseUrl, hostName);
}

/** Knock and be admitted by the host's token, over HTTP: a guest's token for the room. */
async function admittedGuest(roomId: string, hostToken: string, name: string): Promise<string> {
	const pending = await knockOverHttp(baseUrl, roomId, name);
	await admitOverHttp(baseUrl, roomId, pending.knock.knockId, hostToken);
	return (await pending.admitted).token;
}

/** A browserless participant in the call, through the API's proxy (closed with its test). */
async function joinHeadless(roomId: string, token: string): Promise<{ peer: SignalingPeer; answer: JoinAnswer }> {
	const peer = await SignalingPeer.connect(baseUrl, roomId, token);
	peers.push(peer);
	return { peer, answer: await peer.join() };
}

let redisPortNumber = 0;

/**
 * Cut the node off from Redis and from nothing else: nftables rules inside
 * its own namespace drop its packets to and from Redis's port (they go with
 * the namespace if the test dies first). Returns the undo.
 */
function cutFromRedis(host: TestHost): () => void {
	const table = "mm_cut_redis";
	const run = (args: string[], input?: string) =>
		execFileSync("ip", ["netns", "exec", host.namespace, "nft", ...args], {
			stdio: ["pipe", "ignore", "pipe"],
			...(input === undefined ? {} : { input }),
		});
	run(
		["-f", "-"],
		[
			`table inet ${table} {`,
			"  chain output {",
			"    type filter hook output priority 0; policy accept;",
			`    tcp dport ${redisPortNumber} drop`,
			"  }",
			"  chain input {",
			"    type filter hook input priority 0; policy accept;",
			`    tcp sport ${redisPortNumber} drop`,
			"  }",
			"}",
			"",
		].join("\n"),
	);
	return () => run(["delete", "table", "inet", table]);
}

let redisUrlFor: (host: TestHost) => string = () => {
	throw new Error("Redis is not started");
};

/** An SFU process in the host's namespace, listening (signaling and media) on the namespace's address only. */
function startNode(id: string, host: TestHost): ChildProcess {
	const argv = host.exec(process.execPath, [join(repoRoot, "services/sfu/src/main.ts")]);
	return start(
		argv.command,
		argv.args,
		{
			...process.env,
			REDIS_URL: redisUrlFor(host),
			SFU_NODE_ID: id,
			SFU_SIGNALING_HOST: host.address,
			SFU_SIGNALING_PORT: String(signalingPort),
			SFU_LISTEN_IP: host.address,
			SFU_ANNOUNCED_ADDRESS: host.address,
			SFU_RTC_PORT: "40000",
			SFU_WORKERS: "1",
			SFU_HEARTBEAT_SECONDS: "0.5",
			LOG_LEVEL: "warn",
		},
		id,
	);
}

function nodeById(id: string): Node {
	const node = nodes.find((candidate) => candidate.id === id);
	if (!node) throw new Error(`no node ${id}`);
	return node;
}

before(async () => {
	const prefix = freeSubnet();
	const hosts = [makeHost(prefix, 0), makeHost(prefix, 1)];
	for (const host of hosts) {
		namespaces.push(host.namespace);
		links.push(host.link);
	}

	// Redis on loopback (the API) and on each veth's host side (the nodes), nowhere else.
	const redisPort = await freePort();
	redisProcess = start(
		"redis-server",
		[
			"--port",
			String(redisPort),
			"--bind",
			"127.0.0.1",
			...hosts.map((host) => host.hostAddress),
			// Bound to the test's own addresses only; protected mode would refuse the namespaces.
			"--protected-mode",
			"no",
			"--save",
			"",
			"--appendonly",
			"no",
		],
		process.env,
		"redis-server",
	);
	redis = createClient({ url: `redis://127.0.0.1:${redisPort}` });
	redis.on("error", () => {});
	await waitFor("redis answers", async () => {
		if (!redis?.isOpen) await redis?.connect();
		return (await redis?.ping()) === "PONG";
	});

	redisUrlFor = (host) => `redis://${host.hostAddress}:${redisPort}`;
	redisPortNumber = redisPort;
	for (const [index, host] of hosts.entries()) {
		const id = `node-${"ab"[index]}`;
		nodes.push({ id, host, port: signalingPort, process: startNode(id, host) });
	}
	for (const node of nodes) {
		await waitFor(`${node.id} is healthy at ${node.host.address}`, async () => (await health(node)).rooms === 0);
	}

	const apiPort = await freePort();
	baseUrl = `http://localhost:${apiPort}`;
	apiProcess = start(
		process.execPath,
		[join(repoRoot, "services/api/src/main.ts")],
		{
			...process.env,
			REDIS_URL: `redis://127.0.0.1:${redisPort}`,
			PORT: String(apiPort),
			HOST: "127.0.0.1",
			PUBLIC_URL: baseUrl,
			SFU_NODE_STALE_SECONDS: "4",
			// The proxy checks its pipes' placement on each sweep: a short one, so a moved room's pipes are cut soon.
			SIGNALING_PING_INTERVAL: "2",
			KNOCK_RATE_LIMIT: "1000",
			ROOM_CREATE_RATE_LIMIT: "1000",
			LOG_LEVEL: "warn",
		},
		"api",
	);
	await waitFor("the API is healthy", async () => (await fetch(`${baseUrl}/api/health`)).ok);
	for (const node of nodes) {
		await waitFor(`${node.id} is registered`, async () => (await registered(node.id)) !== undefined);
	}
});

// People leave with their test, so the next one starts from empty nodes.
afterEach(async () => {
	for (const peer of peers.splice(0)) peer.close();
	for (const context of contexts.splice(0)) await context.close().catch(() => {});
	for (const node of nodes) {
		if (!exited(node.process)) await waitFor(`${node.id} is empty`, async () => (await health(node)).peers === 0);
	}
});

after(async () => {
	for (const peer of peers.splice(0)) peer.close();
	await browser?.close().catch(() => {});
	const children = [apiProcess, ...nodes.map((node) => node.process), redisProcess];
	for (const child of children) {
		if (child && !exited(child)) {
			const gone = once(child, "exit");
			child.kill("SIGKILL");
			await gone;
		}
	}
	redis?.destroy();
	// Orphaned mediasoup workers (their SFU was SIGKILLed) notice on their own; make sure.
	for (let round = 0; round < 50 && markedProcesses().length > 0; round++) {
		for (const pid of markedProcesses()) {
			try {
				process.kill(pid, "SIGKILL");
			} catch {
				// already gone
			}
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	removeAllHosts();
	assert.deepEqual(markedProcesses(), [], "no process of this file is left");
	for (const namespace of namespaces) assert.equal(namespaceExists(namespace), false, `${namespace} is gone`);
	for (const link of links) assert.equal(linkExists(link), false, `${link} is gone`);
});

test("rooms go to the node with fewer people; people joining one room at once, even while its node is gone, all land on one node", {
	timeout: 120_000,
}, async () => {
	// A room with four people, joining at once.
	const big = await createRoom("Ana");
	const bigNode = await roomNode(big.roomId);
	const guests = await Promise.all(
		["Bia", "Caio", "Davi"].map((name) => admittedGuest(big.roomId, big.hostToken, name)),
	);
	await Promise.all([big.hostToken, ...guests].map((token) => joinHeadless(big.roomId, token)));
	assert.deepEqual(await health(nodeById(bigNode)), { ok: true, node: bigNode, rooms: 1, peers: 4 });
	const otherNode = nodes.find((node) => node.id !== bigNode)?.id ?? "";
	assert.equal((await health(nodeById(otherNode))).rooms, 0, "nothing of that room on the other node");
	await waitFor("the registry shows the load", async () => (await registered(bigNode))?.peers === 4);

	// New rooms go to the emptier node while it stays emptier (1, then 2 people against 4).
	for (const hostName of ["Eva", "Fabi"]) {
		const room = await createRoom(hostName);
		assert.equal(await roomNode(room.roomId), otherNode, `${hostName}'s room went to the node with fewer people`);
		await joinHeadless(room.roomId, room.hostToken);
	}
	await waitFor("the registry shows the load", async () => (await registered(otherNode))?.peers === 2);
	assert.equal((await health(nodeById(otherNode))).rooms, 2);

	// A room whose node is gone (registered, heartbeat long stale): five people connect at once, each
	// through GET /api/rooms/:id and then the signaling proxy, both of which re-place the room.
	const orphan = await createRoom("Gil");
	const tokens = [
		orphan.hostToken,
		...(await Promise.all(
			["Hugo", "Iris", "Joana", "Kai"].map((name) => admittedGuest(orphan.roomId, orphan.hostToken, name)),
		)),
	];
	const gone: SfuNodeStatus = {
		id: "node-gone",
		signalingUrl: "ws://127.0.0.1:9",
		peers: 0,
		rooms: 0,
		workers: 1,
		heartbeatAt: Date.now() - 60_000,
	};
	await store().hSet(redisKeys.sfuNodes, gone.id, JSON.stringify(gone));
	const json = (await store().get(redisKeys.room(orphan.roomId))) ?? "";
	await store().set(redisKeys.room(orphan.roomId), JSON.stringify({ ...JSON.parse(json), sfuNode: gone.id }), {
		KEEPTTL: true,
	});
	const before = await Promise.all(nodes.map(health));
	const joined = await Promise.all(tokens.map((token) => joinHeadless(orphan.roomId, token)));
	const placedOn = await roomNode(orphan.roomId);
	assert.ok(
		nodes.some((node) => node.id === placedOn),
		`placed on a live node, not ${placedOn}`,
	);
	const afterJoin = await Promise.all(nodes.map(health));
	for (const [index, node] of nodes.entries()) {
		const [was, now] = [before[index], afterJoin[index]];
		assert.ok(was && now);
		if (node.id === placedOn) assert.deepEqual([now.rooms - was.rooms, now.peers - was.peers], [1, 5]);
		else assert.deepEqual([now.rooms, now.peers], [was.rooms, was.peers], `nothing of the room on ${node.id}`);
	}
	// Everyone is in one call: each sees the four others, in its join answer or as they arrive.
	for (const { peer, answer } of joined) {
		const self = answer.self.id;
		await waitFor(`${answer.self.name} sees the four others`, async () => {
			const seen = new Set(answer.peers.map((other) => other.id));
			for (const n of peer.notifications) if (n.method === "peerJoined") seen.add((n.data as PeerInfo).id);
			seen.delete(self);
			return seen.size === 4;
		});
	}
	const info = (await (await fetch(`${baseUrl}/api/rooms/${orphan.roomId}`)).json()) as RoomInfo;
	assert.equal(info.sfuUrl, `/sfu/${placedOn}`, "GET /api/rooms/:id agrees");
	await store().hDel(redisKeys.sfuNodes, gone.id);
});

test("a node SIGKILLed: its room's people come back on the other node by themselves, video and chat as before; the other node's room is undisturbed", {
	timeout: 180_000,
}, async () => {
	browser ??= await launchChromium([]);
	const person = async () => {
		const { context, page } = await newParticipant(browser as Browser, {});
		context.setDefaultTimeout(60_000);
		contexts.push(context);
		return page;
	};
	const host = await person();
	const guest = await person();
	const link = await startCall(host, "Luna", guest, "Miro", baseUrl);
	const roomId = roomIdOf(link);
	const doomed = nodeById(await roomNode(roomId));
	const survivor = nodes.find((node) => node !== doomed);
	assert.ok(survivor);
	const earlier = "Antes da queda do nó: tudo certo por aí? 🛰️";
	await openChat(host);
	await openChat(guest);
	await sendChat(host, earlier);
	await waitForChatMessage(guest, earlier);

	// Another room, on the other node (fewer people there), with two people in it.
	await waitFor("the registry shows the call", async () => (await registered(doomed.id))?.peers === 2);
	const calm = await createRoom("Nina");
	assert.equal(await roomNode(calm.roomId), survivor.id, "the new room went to the emptier node");
	const calmRecord = await store().get(redisKeys.room(calm.roomId));
	const calmPeers = [
		(await joinHeadless(calm.roomId, calm.hostToken)).peer,
		(await joinHeadless(calm.roomId, await admittedGuest(calm.roomId, calm.hostToken, "Otto"))).peer,
	];
	const survivorPid = survivor.process.pid;

	// kill -9 the node (its worker dies with it).
	const workers = mediasoupWorkerPids(doomed.process.pid ?? -1);
	const dead = once(doomed.process, "exit");
	doomed.process.kill("SIGKILL");
	await dead;
	for (const pid of workers) {
		try {
			process.kill(pid, "SIGKILL");
		} catch {
			// already gone with its parent
		}
	}

	// Nobody clicks anything: both reconnect and the room is placed on the other node.
	await Promise.all([remoteVideoAdvancing(host, "Miro"), remoteVideoAdvancing(guest, "Luna")]);
	await oneTileEach(host, ["Luna", "Miro"]);
	await oneTileEach(guest, ["Luna", "Miro"]);
	assert.equal(await roomNode(roomId), survivor.id, "the room's record names the surviving node");
	assert.deepEqual(await health(survivor), { ok: true, node: survivor.id, rooms: 2, peers: 4 });
	for (const page of [host, guest]) {
		await openChat(page);
		await waitForChatMessage(page, earlier);
		assert.equal(await chatCount(page, earlier), 1, "the earlier message is there, once");
	}
	const after = "Voltamos, agora no outro nó ✅";
	await sendChat(guest, after);
	await waitForChatMessage(host, after);

	// The other node's room never noticed.
	assert.equal(survivor.process.pid, survivorPid);
	assert.equal(await store().get(redisKeys.room(calm.roomId)), calmRecord, "its record is unchanged");
	for (const peer of calmPeers) {
		assert.equal(peer.client.closed, false, "its people's connections never closed");
		const left = peer.notifications.filter((n) => ["peerLeft", "refused", "roomClosed", "kicked"].includes(n.method));
		assert.deepEqual(left, [], "nobody left it and nothing ended it");
	}

	// The killed node comes back (same id, same address): it takes no room back. A stale client going
	// straight to it with the moved room's token is turned away as unavailable (503), not given a second
	// copy of the room; the API keeps sending the room's people to where the record says.
	doomed.process = startNode(doomed.id, doomed.host);
	await waitFor(`${doomed.id} is back`, async () => (await health(doomed)).rooms === 0);
	await waitFor(`${doomed.id} is registered again`, async () => {
		const status = await registered(doomed.id);
		return status !== undefined && status.heartbeatAt > Date.now() - 2_000;
	});
	const credentials = await storedCredentials(guest, roomId);
	assert.ok(credentials, "the guest holds credentials for the room");
	const stale = new URL(`ws://${doomed.host.address}:${doomed.port}/`);
	stale.searchParams.set(signalingTokenParam, tokenOf(credentials));
	stale.searchParams.set(signalingRoomParam, roomId);
	assert.equal(await upgradeStatus(stale), 503, "the old node refuses to open the moved room");
	assert.deepEqual(await health(doomed), { ok: true, node: doomed.id, rooms: 0, peers: 0 });
	const info = (await (await fetch(`${baseUrl}/api/rooms/${roomId}`)).json()) as RoomInfo;
	assert.equal(info.sfuUrl, `/sfu/${survivor.id}`, "the API still sends the room's people to the survivor");
	assert.equal(await roomNode(roomId), survivor.id);
	// And, being the emptier node now, it takes the next new room.
	const next = await createRoom("Paulo");
	assert.equal(await roomNode(next.roomId), doomed.id);
	await Promise.all([remoteVideoAdvancing(host, "Miro"), remoteVideoAdvancing(guest, "Luna")]);
});

test("a node cut off from Redis (alive, still reachable): its room moves to the other node with everyone in it, newcomer included, and it gives the room up once back", {
	timeout: 180_000,
}, async () => {
	browser ??= await launchChromium([]);
	const person = async () => {
		const { context, page } = await newParticipant(browser as Browser, {});
		context.setDefaultTimeout(60_000);
		contexts.push(context);
		return page;
	};
	const host = await person();
	const guest = await person();
	const link = await startCall(host, "Rui", guest, "Sara", baseUrl);
	const roomId = roomIdOf(link);
	const cutOff = nodeById(await roomNode(roomId));
	const other = nodes.find((node) => node !== cutOff);
	assert.ok(other);

	const restore = cutFromRedis(cutOff.host);
	try {
		// Its heartbeat goes stale while it keeps serving the call.
		await waitFor(`${cutOff.id}'s heartbeat goes stale`, async () => {
			const status = await registered(cutOff.id);
			return status !== undefined && status.heartbeatAt < Date.now() - 5_000;
		});
		// A newcomer is placed on the live node, and the proxy moves the two already in the call there too.
		const newcomer = await person();
		await knock(newcomer, link, "Tomás");
		await answerKnock(host, "Tomás", "admit");
		await tile(newcomer, "Rui").waitFor();
		for (const [page, others] of [
			[host, ["Sara", "Tomás"]],
			[guest, ["Rui", "Tomás"]],
			[newcomer, ["Rui", "Sara"]],
		] as const) {
			await Promise.all(others.map((name) => remoteVideoAdvancing(page, name)));
		}
		await oneTileEach(host, ["Rui", "Sara", "Tomás"]);
		await oneTileEach(newcomer, ["Rui", "Sara", "Tomás"]);
		assert.equal(await roomNode(roomId), other.id, "the record names the live node");
		assert.deepEqual(await health(other), { ok: true, node: other.id, rooms: 1, peers: 3 });
		assert.equal((await health(cutOff)).peers, 0, "nobody is left on the cut-off node");
	} finally {
		restore();
	}
	// Back in touch with Redis, the node holds nothing of the room and the record stays where it is.
	await waitFor(`${cutOff.id} heartbeats again`, async () => {
		const status = await registered(cutOff.id);
		return status !== undefined && status.heartbeatAt > Date.now() - 2_000;
	});
	await waitFor(`${cutOff.id} holds no room`, async () => (await health(cutOff)).rooms === 0);
	assert.equal(await roomNode(roomId), other.id);
	await Promise.all([remoteVideoAdvancing(host, "Sara"), remoteVideoAdvancing(guest, "Rui")]);
});
