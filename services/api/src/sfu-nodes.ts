/**
 * The SFU node registry, read side: nodes publish a JSON SfuNodeStatus in the
 * `redisKeys.sfuNodes` hash every few seconds; the API picks among the live ones.
 */
import { redisKeys, SfuNodeStatus, StoredRoom, sfuNodeStaleMs } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { ApiRedis } from "./redis.ts";

/** Parse one registry entry; undefined when it is not a well-formed SfuNodeStatus. */
export function parseNodeStatus(json: string | null | undefined): SfuNodeStatus | undefined {
	return parseRecord(SfuNodeStatus, json);
}

/** True when the node's heartbeat is recent enough to send anyone there. */
export function isLive(node: SfuNodeStatus, now: number): boolean {
	return node.heartbeatAt >= now - sfuNodeStaleMs;
}

/** The least-loaded live node (fewest peers, then fewest rooms), or undefined when none is live. */
export async function pickLeastLoadedNode(redis: ApiRedis, now = Date.now()): Promise<SfuNodeStatus | undefined> {
	const entries = await redis.hGetAll(redisKeys.sfuNodes);
	let best: SfuNodeStatus | undefined;
	for (const [field, json] of Object.entries(entries)) {
		const node = parseNodeStatus(json);
		// The hash field is the node id; an entry that disagrees with its own field is malformed.
		if (!node || node.id !== field || !isLive(node, now)) continue;
		if (!best || node.peers < best.peers || (node.peers === best.peers && node.rooms < best.rooms)) best = node;
	}
	return best;
}

/** How long health and metrics wait for Redis before calling it down, ms. */
export const probeTimeoutMs = 2_000;

/** What health and metrics report about the API's dependencies. */
export interface BackendProbe {
	redis: "up" | "down";
	/** Live SFU nodes, by id; undefined when Redis could not be read. */
	nodes: SfuNodeStatus[] | undefined;
}

/**
 * Is Redis there, and which SFU nodes are live (heartbeat within
 * sfuNodeStaleMs, as room placement sees them). Never throws, and answers
 * within about probeTimeoutMs even if Redis hangs.
 */
export async function probeBackends(redis: Pick<ApiRedis, "ping" | "hGetAll">, now = Date.now): Promise<BackendProbe> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error("redis did not answer in time")), probeTimeoutMs);
	});
	try {
		const entries = await Promise.race([redis.ping().then(() => redis.hGetAll(redisKeys.sfuNodes)), timeout]);
		const at = now();
		const nodes: SfuNodeStatus[] = [];
		for (const [field, json] of Object.entries(entries)) {
			const node = parseNodeStatus(json);
			if (node && node.id === field && isLive(node, at)) nodes.push(node);
		}
		nodes.sort((a, b) => a.id.localeCompare(b.id));
		return { redis: "up", nodes };
	} catch {
		return { redis: "down", nodes: undefined };
	} finally {
		clearTimeout(timer);
	}
}

/** One node's status, live or not; undefined when it is not registered (or its entry is malformed). */
export async function readNode(redis: ApiRedis, nodeId: string): Promise<SfuNodeStatus | undefined> {
	return parseNodeStatus(await redis.hGet(redisKeys.sfuNodes, nodeId));
}

/**
 * Compare-and-set of a room's record, keeping its TTL (the SFU manages the
 * room's lifetime; re-placing must neither extend nor shorten it). The whole
 * JSON is compared, not re-encoded in Lua, so fields this code does not know
 * survive byte for byte. Answers the record in place afterwards: ARGV[2] when
 * this call wrote it, the other writer's record when someone changed it first,
 * nil when the room is gone (a re-placement never brings a room back).
 * KEYS: room. ARGV: expected JSON, new JSON.
 */
const compareAndSetScript = `
local current = redis.call('GET', KEYS[1])
if not current then return false end
if current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return ARGV[2]
`;

/** Where a room's media is: a live node (and the dead one it was moved from, if it was), or none live right now. */
export interface Placement {
	node: SfuNodeStatus | undefined;
	movedFrom?: string;
}

/** Tries before giving up when the record keeps changing under us (another instance, the SFU refreshing it). */
const maxPlacementAttempts = 3;

/**
 * The live node of a room whose record names `recordedNode`: that node while
 * its heartbeat is recent (one read); otherwise the least-loaded live node,
 * written into the record atomically so that every API instance sends the
 * room's people to the same place: an instance that loses the race follows
 * the winner. `{ node: undefined }` when no node is live (try again later) or
 * the room is gone.
 */
export async function placeRoom(
	redis: ApiRedis,
	roomId: string,
	recordedNode: string,
	now = Date.now(),
): Promise<Placement> {
	const recorded = await readNode(redis, recordedNode);
	if (recorded && isLive(recorded, now)) return { node: recorded };

	let json = await redis.get(redisKeys.room(roomId));
	for (let attempt = 0; attempt < maxPlacementAttempts; attempt++) {
		// Unknown fields are kept by parseRecord and written back with the record.
		const record = parseRecord(StoredRoom, json);
		if (!json || !record) return { node: undefined };
		if (record.sfuNode !== recordedNode) {
			// Moved since the caller read it: follow it if that node is live.
			const current = await readNode(redis, record.sfuNode);
			if (current && isLive(current, now)) return { node: current, movedFrom: recordedNode };
		}
		const candidate = await pickLeastLoadedNode(redis, now);
		if (!candidate) return { node: undefined };
		const replacement = JSON.stringify({ ...record, sfuNode: candidate.id });
		const result = await redis.eval(compareAndSetScript, {
			keys: [redisKeys.room(roomId)],
			arguments: [json, replacement],
		});
		if (typeof result !== "string") return { node: undefined };
		if (result === replacement) return { node: candidate, movedFrom: recordedNode };
		json = result;
	}
	return { node: undefined };
}
