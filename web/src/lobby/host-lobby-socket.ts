import { type KnockInfo, type LobbyHostEvent, lobbyCloseCodes } from "@mindmeet/protocol";
import { type Accessor, createSignal, onCleanup } from "solid-js";
import { hostLobbyUrl } from "../api/lobby.ts";
import { lobbyBackoff, RetryStreak } from "../call/reconnect-policy.ts";
import { playSound } from "../ui/sounds.ts";
import { parseLobbyMessage } from "./messages.ts";

/**
 * Closes after which reconnecting cannot help: the room is gone, or this token
 * is not the host's (any more). A plain 1000 is not among them: the room's
 * end comes as a "room-closed" event first (which stops us), so a 1000 without
 * it is a server going away, and a retry meets 4404 if the room went too.
 */
const finalCloseCodes = new Set<number>([
	lobbyCloseCodes.unauthorized,
	lobbyCloseCodes.forbidden,
	lobbyCloseCodes.notFound,
]);
/**
 * A 4403 or 4401 is not final at once: right after this peer became host the
 * host key in Redis may lag the hostChanged notification by a moment and the
 * renewed (host's) token may still be on its way; after a Redis restart the
 * SFU re-asserts the host key within seconds. So this many refusals in a row
 * (without a message between them) are retried under the back-off policy. If
 * the role really moved away, the call's hostChanged unmounts us anyway.
 */
const refusalRetries = 4;

export interface HostLobby {
	/** Pending knocks, oldest first. */
	queue: Accessor<readonly KnockInfo[]>;
	/** Drop a knock at once (answered here, or gone), without waiting for the server to say so. */
	remove(knockId: string): void;
}

/**
 * The host's lobby socket, open for as long as the calling component lives
 * (mount it only while this peer is host). Drops are retried under the
 * call's back-off policy (reconnect-policy.ts), each time with the newest
 * token (renewed while the call goes on); the snapshot sent on every
 * connect resynchronises the queue, so knocks that came and went meanwhile
 * are not missed.
 */
export function createHostLobby(roomId: string, token: () => string): HostLobby {
	const [queue, setQueue] = createSignal<readonly KnockInfo[]>([]);
	let socket: WebSocket | undefined;
	let retryTimer: number | undefined;
	const streak = new RetryStreak(lobbyBackoff);
	/** Refusals (4401/4403) in a row, without a message between them. */
	let refusals = 0;
	let stopped = false;

	/** Take the new queue; a knock we had not seen before is announced with a sound. */
	const update = (next: readonly KnockInfo[]) => {
		const known = new Set(queue().map((knock) => knock.id));
		setQueue(next);
		if (next.some((knock) => !known.has(knock.id))) playSound("knock");
	};

	const onEvent = (event: LobbyHostEvent) => {
		switch (event.type) {
			case "knocks":
				update(event.knocks);
				break;
			case "knock":
				if (!queue().some((knock) => knock.id === event.knock.id)) update([...queue(), event.knock]);
				break;
			case "knock-ended":
				setQueue((list) => list.filter((knock) => knock.id !== event.knockId));
				break;
			case "room-closed":
				// The call itself reports the closure; the socket closes right after, for good.
				stopped = true;
				break;
			// "host-changed": if it is not us the server closes with 4403, which stops us; the
			// call's own hostChanged notification moves the role on screen.
		}
	};

	const connect = () => {
		const current = new WebSocket(hostLobbyUrl(roomId, token()));
		socket = current;
		current.addEventListener("message", (message) => {
			streak.succeeded();
			refusals = 0;
			const event = parseLobbyMessage<LobbyHostEvent>(message.data);
			if (event) onEvent(event);
		});
		current.addEventListener("close", (close) => {
			if (socket !== current) return;
			socket = undefined;
			if (stopped) return;
			const refused = close.code === lobbyCloseCodes.forbidden || close.code === lobbyCloseCodes.unauthorized;
			if (finalCloseCodes.has(close.code) && !(refused && refusals++ < refusalRetries)) return;
			// Jittered (by the policy) so that many hosts cut off by one server restart do not come back in step.
			const delay = streak.failed(Date.now());
			if (delay !== null) retryTimer = window.setTimeout(connect, delay);
		});
	};

	connect();
	onCleanup(() => {
		stopped = true;
		window.clearTimeout(retryTimer);
		socket?.close(1000);
		socket = undefined;
	});

	return {
		queue,
		remove: (knockId) => setQueue((list) => list.filter((knock) => knock.id !== knockId)),
	};
}
