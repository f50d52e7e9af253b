/**
 * The SFU node registry, read side: nodes publish a JSON SfuNodeStatus in the
 * `redisKeys.sfuNodes` hash every few seconds; the API picks among the live ones.
 */
import {
	RouterRtpCapabilities,
	redisKeys,
	SfuNodeStatus,
	StoredRoom,
	sfuNodeStaleMs,
	sfuRtpCapabilitiesKey,
} from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import type { ApiRedis } from "./redis.ts";

/** Parse one registry entry; undefined when it is not a well-formed SfuNodeStatus. */
export function parseNodeStatus(json: string | null | undefined): SfuNodeStatus | undefined {
	return parseRecord(SfuNodeStatus, json);
}

/**
 * True when the node's heartbeat is recent enough to send anyone there.
 * `staleMs`: the API's SFU_NODE_STALE_SECONDS (default sfuNodeStaleMs).
 */
export function isLive(node: SfuNodeStatus, now: number, staleMs = sfuNodeStaleMs): boolean {
	return node.heartbeatAt >= now - staleMs;
}

/** The least-loaded live node (fewest peers, then fewest rooms), or undefined when none is live. */
export async function pickLeastLoadedNode(
	redis: ApiRedis,
	now = Date.now(),
	staleMs = sfuNodeStaleMs,
): Promise<SfuNodeStatus | undefined> {
	const entries = await redis.hGetAll(redisKeys.sfuNodes);
	let best: SfuNodeStatus | undefined;
	for (const [field, json] of Object.entries(entries)) {
		const node = parseNodeStatus(json);
		// The hash field is the node id; an entry that disagrees with its own field is malformed.
		if (!node || node.id !== field || !isLive(node, now, staleMs)) continue;
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
 * The router capabilities a node published (capabilities.ts in the
 * protocol); undefined when it published none or they are not well formed,
 * and then browsers ask the SFU for them after joining, as before.
 */
export async function readRtpCapabilities(
	redis: Pick<ApiRedis, "hGet">,
	nodeId: string,
): Promise<RouterRtpCapabilities | undefined> {
	return parseRecord(RouterRtpCapabilities, await redis.hGet(sfuRtpCapabilitiesKey, nodeId));
}

/**
 * Compare-and-set of a room's record, keeping its TTL (the SFU manages the
 * room's lifetime; re-placing must neither extend nor shorten it). The whole
 * JSON is compared, not re-encoded in Lua, so fields this code does not know
 * survive byte for byte. The holder's lease is checked in the same step: if
 * the node the record names has heartbeated since `staleBefore` (it came back
 * after we found it stale, and a record that went A→C→A would compare equal),
 * nothing is written. Answers the record in place afterwards: ARGV[2] when
 * this call wrote it, the current record otherwise (someone changed it first,
 * or its node is live), nil when the room is gone (a re-placement never
 * brings a room back).
 * KEYS: room, node registry. ARGV: expected JSON, new JSON, node the expected
 * record names, staleBefore (epoch ms).
 */
const compareAndSetScript = `
local current = redis.call('GET', KEYS[1])
if not current then return false end
if current ~= ARGV[1] then return current end
local holder = redis.call('HGET', KEYS[2], ARGV[3])
if holder then
  local ok, status = pcall(cjson.decode, holder)
  if ok and type(status) == 'table' and type(status.heartbeatAt) == 'number'
    and status.heartbeatAt >= tonumber(ARGV[4]) then
    return current
  end
end
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
 *
 * The record's `sfuNode` is the room's lock, held by that node for as long as
 * its heartbeat is recent (a lease): only this compare-and-set takes it over,
 * and only from a stale holder. A caller acting on a record read a moment
 * earlier may still be sent to a node that just lost the room; that node's
 * door refuses a room its record does not name (services/sfu/src/placement),
 * so the client retries through here and lands where the room is.
 */
export async function placeRoom(
	redis: ApiRedis,
	roomId: string,
	recordedNode: string,
	now = Date.now(),
	staleMs = sfuNodeStaleMs,
): Promise<Placement> {
	const recorded = await readNode(redis, recordedNode);
	if (recorded && isLive(recorded, now, staleMs)) return { node: recorded };

	// movedFrom only when the room is somewhere else now (it may stay, or come back, on the node found stale).
	const placed = (node: SfuNodeStatus): Placement =>
		node.id === recordedNode ? { node } : { node, movedFrom: recordedNode };
	let json = await redis.get(redisKeys.room(roomId));
	for (let attempt = 0; attempt < maxPlacementAttempts; attempt++) {
		// Unknown fields are kept by parseRecord and written back with the record.
		const record = parseRecord(StoredRoom, json);
		if (!json || !record) return { node: undefined };
		if (attempt > 0 || record.sfuNode !== recordedNode) {
			// Moved since the caller read it (or another writer won the set): follow it if that node is live,
			// even when it is the node first found stale, which may have come back meanwhile.
			const current = await readNode(redis, record.sfuNode);
			if (current && isLive(current, now, staleMs)) return placed(current);
		}
		const candidate = await pickLeastLoadedNode(redis, now, staleMs);
		if (!candidate) return { node: undefined };
		const replacement = JSON.stringify({ ...record, sfuNode: candidate.id });
		const result = await redis.eval(compareAndSetScript, {
			keys: [redisKeys.room(roomId), redisKeys.sfuNodes],
			arguments: [json, replacement, record.sfuNode, String(now - staleMs)],
		});
		if (typeof result !== "string") return { node: undefined };
		if (result === replacement) return placed(candidate);
		json = result;
	}
	return { node: undefined };
}
