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

/** One node's status, live or not; undefined when it is not registered (or its entry is malformed). */
export async function readNode(redis: ApiRedis, nodeId: string): Promise<SfuNodeStatus | undefined> {
	return parseNodeStatus(await redis.hGet(redisKeys.sfuNodes, nodeId));
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

/** The record's JSON as an object (every field, known or not) and its node; undefined when unreadable. */
function parseRecord(
	json: string | null | undefined,
): { fields: Record<string, unknown>; sfuNode: string } | undefined {
	if (!json) return undefined;
	try {
		const fields = JSON.parse(json) as unknown;
		if (typeof fields !== "object" || fields === null || Array.isArray(fields)) return undefined;
		const { sfuNode } = fields as { sfuNode?: unknown };
		return typeof sfuNode === "string" ? { fields: fields as Record<string, unknown>, sfuNode } : undefined;
	} catch {
		return undefined;
	}
}

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
		const record = parseRecord(json);
		if (!json || !record) return { node: undefined };
		if (attempt > 0 || record.sfuNode !== recordedNode) {
			// Moved since the caller read it (or another writer won the set): follow it if that node is live,
			// even when it is the node first found stale, which may have come back meanwhile.
			const current = await readNode(redis, record.sfuNode);
			if (current && isLive(current, now, staleMs)) return placed(current);
		}
		const candidate = await pickLeastLoadedNode(redis, now, staleMs);
		if (!candidate) return { node: undefined };
		const replacement = JSON.stringify({ ...record.fields, sfuNode: candidate.id });
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
