import { Peer, WebSocketTransport } from "protoo-client";
import type { SignalingPeer } from "./signaling.ts";

/**
 * A protoo Peer for one connection attempt. retries: 0 because protoo's own
 * retries would fight SignalingConnection's policy: protoo gives up on the
 * first failure ('failed', then 'close') and the policy decides when to try
 * again. After an open socket drops protoo would start over by itself; the
 * connection closes the peer on 'disconnected', which stops that.
 */
export function openProtooPeer(url: string): SignalingPeer {
	// @types/protoo-client types accept() as taking a protoo response (it takes the response
	// data) and lacks the 'failed' event; the shapes are otherwise the same.
	return new Peer(new WebSocketTransport(url, { retry: { retries: 0 } })) as unknown as SignalingPeer;
}
