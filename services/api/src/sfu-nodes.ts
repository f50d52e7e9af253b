/**
 * The SFU node registry, read side: nodes publish a JSON SfuNodeStatus in the
 * `redisKeys.sfuNodes` hash every few seconds; the API picks among the live ones.
 */
import { redisKeys, type SfuNodeStatus, sfuNodeStaleMs } from "@mindmeet/protocol";
import type { ApiRedis } from "./redis.ts";

/** Parse one registry entry; undefined when it is not a well-formed SfuNodeStatus. */
export function parseNodeStatus(json: string | null | undefined): SfuNodeStatus | undefined {
	if (!json) return undefined;
	let value: unknown;
	try {
		value = JSON.parse(json);
	} catch {
		return undefined;
	}
	if (typeof value !== "object" || value === null) return undefined;
	const v = value as Record<string, unknown>;
	const count = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
	if (
		typeof v.id !== "string" ||
		v.id.length === 0 ||
		typeof v.signalingUrl !== "string" ||
		(v.publicUrl !== undefined && typeof v.publicUrl !== "string") ||
		!count(v.peers) ||
		!count(v.rooms) ||
		!count(v.workers) ||
		typeof v.heartbeatAt !== "number" ||
		!Number.isFinite(v.heartbeatAt)
	) {
		return undefined;
	}
	return {
		id: v.id,
		signalingUrl: v.signalingUrl,
		...(typeof v.publicUrl === "string" && v.publicUrl ? { publicUrl: v.publicUrl } : {}),
		peers: v.peers as number,
		rooms: v.rooms as number,
		workers: v.workers as number,
		heartbeatAt: v.heartbeatAt,
	};
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

/** One node's status, live or not; undefined when it is not registered (or its entry is malformed). */
export async function readNode(redis: ApiRedis, nodeId: string): Promise<SfuNodeStatus | undefined> {
	return parseNodeStatus(await redis.hGet(redisKeys.sfuNodes, nodeId));
}

/**
 * Move a room's record to `toNode` if it still names `fromNode`, keeping the
 * record's TTL (the SFU manages the room's lifetime; re-placing must not
 * extend or shorten it). Answers the node the record names afterwards: `toNode`
 * when this call moved it, another id when someone else moved it first (two
 * proxies re-placing at once agree on the first one's choice), nil when the
 * room is gone. The record is rewritten through cjson, which keeps every field.
 * KEYS: room. ARGV: fromNode, toNode.
 */
const replaceNodeScript = `
local json = redis.call('GET', KEYS[1])
if not json then return false end
local ok, room = pcall(cjson.decode, json)
if not ok or type(room) ~= 'table' or type(room.sfuNode) ~= 'string' then return false end
if room.sfuNode ~= ARGV[1] then return room.sfuNode end
room.sfuNode = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(room), 'KEEPTTL')
return ARGV[2]
`;

/** Where a room's media is: a live node (and the dead one it was moved from, if it was), or none live right now. */
export interface Placement {
	node: SfuNodeStatus | undefined;
	movedFrom?: string;
}

/** Tries before giving up when other instances keep moving the room under us (they never should twice). */
const maxPlacementAttempts = 3;

/**
 * The live node of a room whose record names `recordedNode`: that node while
 * its heartbeat is recent; otherwise the least-loaded live node, written into
 * the record atomically so that every API instance sends the room's people to
 * the same place. `{ node: undefined }` when no node is live (try again later)
 * or the room is gone (the caller read a record a moment ago; it ended since).
 */
export async function placeRoom(
	redis: ApiRedis,
	roomId: string,
	recordedNode: string,
	now = Date.now(),
): Promise<Placement> {
	let expected = recordedNode;
	for (let attempt = 0; attempt < maxPlacementAttempts; attempt++) {
		const current = await readNode(redis, expected);
		if (current && isLive(current, now)) {
			return expected === recordedNode ? { node: current } : { node: current, movedFrom: recordedNode };
		}
		const candidate = await pickLeastLoadedNode(redis, now);
		if (!candidate) return { node: undefined };
		const placed = await redis.eval(replaceNodeScript, {
			keys: [redisKeys.room(roomId)],
			arguments: [expected, candidate.id],
		});
		if (typeof placed !== "string") return { node: undefined };
		if (placed === candidate.id) return { node: candidate, movedFrom: recordedNode };
		// Someone else re-placed it first: follow their choice if it is live.
		expected = placed;
	}
	return { node: undefined };
}
