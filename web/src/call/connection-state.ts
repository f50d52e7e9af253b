/**
 * The call's one connection state, and the only way it changes.
 *
 *   connecting ──joined──▶ connected ──lost──▶ reconnecting ──joined──▶ connected
 *       │ lost: stays connecting            │ lost: stays reconnecting
 *       └──────────── gave-up ──────────────┴──▶ disconnected (the rejoin button)
 *   (gave-up also comes from `connected` when media never got through: retrying would fail again)
 *   any of those ── refused | kicked | room-closed | left ──▶ ended (for good)
 *
 * "lost" is everything that is not a refusal: a socket closed with any code
 * (also 4000 from an SFU shutting down), an upgrade answered 503, a proxy's
 * 1011/1013, an attempt that did not open in time, a request that got no
 * answer. Only the back-off policy giving up turns it into `disconnected`;
 * only `refused`, `kicked` and `roomClosed` (or leaving) end the call.
 */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected" | "ended";

export type ConnectionEvent =
	/** The join sequence completed on the current connection (also a rejoin after mediaReset). */
	| "joined"
	/** The current attempt closed, failed or went silent; retried under the back-off policy. */
	| "lost"
	/** The back-off policy stopped retrying. */
	| "gave-up"
	/** Final ends: a `refused` notification, `kicked`, `roomClosed`, or the person left. */
	| "refused"
	| "kicked"
	| "room-closed"
	| "left";

/** Whether nothing can happen any more in this state (a rejoin starts a new session). */
export function isTerminal(state: ConnectionState): boolean {
	return state === "disconnected" || state === "ended";
}

/** Whether the call is on screen: joined once and not over (media may be coming back). */
export function isInCall(state: ConnectionState): boolean {
	return state === "connected" || state === "reconnecting";
}

export function nextConnectionState(state: ConnectionState, event: ConnectionEvent): ConnectionState {
	if (isTerminal(state)) return state;
	switch (event) {
		case "joined":
			return "connected";
		case "lost":
			// Before the first join the screen says "connecting" anyway.
			return state === "connecting" ? "connecting" : "reconnecting";
		case "gave-up":
			return "disconnected";
		case "refused":
		case "kicked":
		case "room-closed":
		case "left":
			return "ended";
	}
}
