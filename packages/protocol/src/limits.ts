/** Bounds shared by every edge that accepts user input. */
export const limits = {
	/** Display names are text, trimmed, at most this many characters. */
	nameMaxLength: 40,
	/** Largest protoo message the SFU accepts, in bytes. */
	signalingMessageMaxBytes: 64 * 1024,
	/** Largest HTTP body the API accepts, in bytes. */
	httpBodyMaxBytes: 16 * 1024,
} as const;

/** Trim a display name and collapse inner whitespace; the result may be empty. */
export function normalizeName(raw: string): string {
	return raw.replace(/\s+/g, " ").trim();
}
