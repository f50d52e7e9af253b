/** Bounds shared by every edge that accepts user input. */
export const limits = {
	/** Display names are text, trimmed, at most this many characters. */
	nameMaxLength: 40,
	/** Largest protoo message the SFU accepts from a client, in bytes. */
	signalingMessageMaxBytes: 64 * 1024,
	/**
	 * Largest protoo message the SFU sends to a client, in bytes. The biggest
	 * are the `join` response (people in the room plus one chat page) and a
	 * `chatHistory` page; both are built to stay under it. The signaling proxy
	 * accepts server messages up to this size (client messages stay at
	 * signalingMessageMaxBytes).
	 */
	serverMessageMaxBytes: 1024 * 1024,
	/** Largest HTTP body the API accepts, in bytes. */
	httpBodyMaxBytes: 16 * 1024,
	/** Chat messages: 1..this many characters after trimming. */
	chatMaxLength: 2000,
	/** Messages kept per room (older ones drop off); late joiners get the newest page of these. */
	chatHistoryMax: 200,
	/**
	 * One page of chat history (the `join` response's, or one `chatHistory`
	 * answer): at most this many messages and this many bytes of JSON, the
	 * newest that fit. A message is at most ~8 KB of UTF-8, so a page always
	 * holds at least a few.
	 */
	chatHistoryPageMax: 50,
	chatHistoryPageMaxBytes: 32 * 1024,
	/** A peer may send this many chat messages in any one-second window; more get `rate-limited`. */
	chatPerSecond: 3,
} as const;

// normalizeName lives in text.ts with the rest of the text hygiene.

/**
 * ROOM_MAX_PEERS when it is not set: people one room takes at once. Both
 * services read the same variable with this default: the SFU refuses the
 * next connection (`room-full`), the API refuses knocks and admissions into
 * a full room (`lobbyRoomFullCode`). While the room's host is not connected,
 * one of the places is kept for them.
 */
export const roomMaxPeersDefault = 50;
/** The range ROOM_MAX_PEERS must fall in (both services refuse to start otherwise). */
export const roomMaxPeersRange = { min: 1, max: 1000 } as const;
