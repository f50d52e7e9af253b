/** Bounds shared by every edge that accepts user input. */
export const limits = {
	/** Display names are text, trimmed, at most this many characters. */
	nameMaxLength: 40,
	/** Largest protoo message the SFU accepts, in bytes. */
	signalingMessageMaxBytes: 64 * 1024,
	/** Largest HTTP body the API accepts, in bytes. */
	httpBodyMaxBytes: 16 * 1024,
	/** Chat messages: 1..this many characters after trimming. */
	chatMaxLength: 2000,
	/** Messages kept per room (older ones drop off); late joiners get these. */
	chatHistoryMax: 200,
	/** A peer may send this many chat messages in any one-second window; more get `rate-limited`. */
	chatPerSecond: 3,
} as const;

/** Trim a display name and collapse inner whitespace; the result may be empty. */
export function normalizeName(raw: string): string {
	return raw.replace(/\s+/g, " ").trim();
}
