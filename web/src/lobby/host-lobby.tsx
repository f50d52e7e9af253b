import type { KnockInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, Show } from "solid-js";
import { ApiRequestError } from "../api/http.ts";
import { answerKnock, isRoomFull } from "../api/lobby.ts";
import { toastError } from "../ui/errors.ts";
import { createHostLobby } from "./host-lobby-socket.ts";
import { type KnockAnswer, KnockModal } from "./knock-modal.tsx";
import "./lobby.css";

/** Mounted while this peer is the host: hears knocks and asks about them one at a time, oldest first. */
export function HostLobby(props: {
	roomId: string;
	/** The newest token (renewed during the call), read at every use. */
	token: () => string;
}): JSX.Element {
	const lobby = createHostLobby(props.roomId, props.token);
	/** The knock whose admission was just refused because the room is full: its modal says so. */
	const [fullFor, setFullFor] = createSignal<string | undefined>();

	const answer = async (knock: KnockInfo, choice: KnockAnswer) => {
		// A new try: the full-room note goes and comes back (announced again) if the room is still full.
		setFullFor(undefined);
		try {
			await answerKnock(props.roomId, knock.id, choice, props.token());
		} catch (error) {
			// The room is full: the knock stays pending, to admit once someone leaves (or deny). The modal says why.
			if (isRoomFull(error)) {
				setFullFor(knock.id);
				return;
			}
			// 404/409: the guest gave up, the knock expired, or it was already answered. Nothing to
			// ask any more. Anything else may work on a second try, so the knock stays.
			const gone = error instanceof ApiRequestError && (error.status === 404 || error.status === 409);
			if (!gone) {
				toastError(error);
				return;
			}
		}
		lobby.remove(knock.id);
	};

	return (
		<Show when={lobby.queue()[0]} keyed>
			{(knock) => (
				<KnockModal
					knock={knock}
					waiting={lobby.queue().length - 1}
					roomFull={fullFor() === knock.id}
					onAnswer={(choice) => answer(knock, choice)}
				/>
			)}
		</Show>
	);
}
