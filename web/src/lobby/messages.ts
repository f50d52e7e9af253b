/** Lobby sockets carry JSON objects with a `type`; anything else is ignored rather than trusted. */
export function parseLobbyMessage<T extends { type: string }>(data: unknown): T | undefined {
	if (typeof data !== "string") return undefined;
	try {
		const value: unknown = JSON.parse(data);
		if (typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string") {
			return value as T;
		}
	} catch {
		// Not JSON: not from our server.
	}
	return undefined;
}
