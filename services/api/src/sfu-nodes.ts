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
