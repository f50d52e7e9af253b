import type { LobbyGuestEvent } from "@mindmeet/protocol";
import type { RoomCredentials } from "../room/credentials.ts";
import { parseLobbyMessage } from "./messages.ts";

/** How a knock ended, from the waiting guest's side. `failed`: the socket went away without an answer. */
export type WaitOutcome =
	| { kind: "admitted"; credentials: RoomCredentials }
	| { kind: "denied" }
	| { kind: "expired" }
	| { kind: "room-closed" }
	| { kind: "failed" };

/**
 * Wait on the knock's socket for the host's answer; `onOutcome` is called
 * once. The returned function closes the socket, which also withdraws a
 * knock that is still pending (the server ties the knock to this socket).
 */
export function waitForAnswer(url: string, onOutcome: (outcome: WaitOutcome) => void): () => void {
	const socket = new WebSocket(url);
	let settled = false;
	const settle = (outcome: WaitOutcome) => {
		if (settled) return;
		settled = true;
		onOutcome(outcome);
	};

	socket.addEventListener("message", (message) => {
		const event = parseLobbyMessage<LobbyGuestEvent>(message.data);
		if (!event) return;
		switch (event.type) {
			case "admitted":
				settle({ kind: "admitted", credentials: { token: event.token, peerId: event.peerId } });
				break;
			case "denied":
			case "expired":
			case "room-closed":
				settle({ kind: event.type });
				break;
			// "waiting" only confirms the knock; nothing changes on screen.
		}
	});
	// A pending knock dies with its socket, so there is nothing to reconnect to.
	socket.addEventListener("close", () => settle({ kind: "failed" }));

	return () => {
		settled = true;
		socket.close(1000);
	};
}
