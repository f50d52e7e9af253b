import type { RoomInfo } from "@mindmeet/protocol";
import { createEffect, createMemo, createSignal, type JSX, Match, onCleanup, Show, Switch } from "solid-js";
import { getRoom } from "../api/rooms.ts";
import { navigate } from "../app/router.tsx";
import { preloadDevice } from "../call/preloaded-device.ts";
import type { CallEnd } from "../call/session.ts";
import { type MessageKey, t } from "../i18n/index.ts";
import type { LocalTracks } from "../media/devices.ts";
import { MessagePage } from "../ui/message-page.tsx";
import { showToast } from "../ui/toasts.tsx";
import { CallScreen } from "./call-screen.tsx";
import { forgetCredentials, loadCredentials, type RoomCredentials } from "./credentials.ts";
import { PreJoin } from "./pre-join.tsx";
import "./room.css";

type Loading = { kind: "loading" } | { kind: "missing" } | { kind: "failed" } | { kind: "ready"; info: RoomInfo };

type Step =
	| { kind: "prejoin" }
	| { kind: "call"; credentials: RoomCredentials; tracks?: LocalTracks }
	/**
	 * `final`: there is nothing to rejoin (kicked, room closed), so there is no "join again" button.
	 * `stay`: the connection was lost, the credentials still work: the page waits for the person.
	 */
	| { kind: "ended"; message: string; final: boolean; stay: boolean };

/**
 * A call that ended for good goes home by itself: after long enough to read
 * the message, short enough not to leave anyone on a dead page; longer when
 * "join again" is on offer, so there is time to choose it. A lost connection
 * does not: the person may be away from the screen while the network was
 * down, and the rejoin button must still be there when they come back.
 */
const homeAfterSeconds = { final: 4, rejoinable: 10 } as const;

function endMessage(end: CallEnd): string {
	if (end.kind === "disconnected") return t("call.disconnected");
	if (end.kind === "kicked") return t("call.kicked");
	if (end.kind === "room-closed") return t("call.roomClosed");
	const keys: Partial<Record<typeof end.reason, MessageKey>> = {
		"token-missing": "refused.token",
		"token-invalid": "refused.token",
		"token-expired": "refused.token",
		"wrong-room": "refused.token",
		"room-not-found": "refused.room",
		"room-full": "refused.roomFull",
		"server-full": "refused.serverFull",
		"too-many-requests": "refused.tooManyRequests",
	};
	const key = keys[end.reason];
	return key ? t(key) : end.message;
}

/** Credentials in this tab mean we were let in already (host, or a reload): straight to the call. */
function firstStep(roomId: string): Step {
	const credentials = loadCredentials(roomId);
	return credentials ? { kind: "call", credentials } : { kind: "prejoin" };
}

export function RoomPage(props: { roomId: string }): JSX.Element {
	const [loading, setLoading] = createSignal<Loading>({ kind: "loading" });
	const [step, setStep] = createSignal<Step>(firstStep(props.roomId));

	const load = () => {
		setLoading({ kind: "loading" });
		getRoom(props.roomId).then(
			(info) => setLoading(info ? { kind: "ready", info } : { kind: "missing" }),
			() => setLoading({ kind: "failed" }),
		);
	};
	load();

	const info = () => {
		const state = loading();
		return state.kind === "ready" ? state.info : undefined;
	};
	// Loaded as soon as the room's facts arrive, while the guest fills in the form and waits to be let in.
	const preloadedDevice = createMemo(() => {
		const room = info();
		return room ? preloadDevice(room.routerRtpCapabilities) : undefined;
	});
	const callStep = () => {
		const current = step();
		return current.kind === "call" ? current : undefined;
	};
	const endedStep = () => {
		const current = step();
		return current.kind === "ended" ? current : undefined;
	};

	const onEnded = (end: CallEnd) => {
		// A refused or revoked token will be refused again; a dropped connection may still rejoin with it.
		const final = end.kind === "kicked" || end.kind === "room-closed";
		// A full room or server says nothing against the token: "join again" later uses it, no knock.
		const full = end.kind === "refused" && (end.reason === "room-full" || end.reason === "server-full");
		if (final || (end.kind === "refused" && !full)) forgetCredentials(props.roomId);
		const message = endMessage(end);
		showToast(message);
		setStep({ kind: "ended", message, final, stay: end.kind === "disconnected" });
	};
	const onRoomClosed = () => onEnded({ kind: "room-closed" });
	const onLeft = () => {
		forgetCredentials(props.roomId);
		navigate("/");
	};
	const rejoin = () => {
		setStep(firstStep(props.roomId));
		load();
	};

	return (
		<Switch>
			<Match when={loading().kind === "loading"}>
				<main class="message-page" aria-busy="true">
					<p class="message-page__text">{t("room.loading")}</p>
				</main>
			</Match>
			<Match when={loading().kind === "missing"}>
				<MessagePage message={t("room.notFound")} />
			</Match>
			<Match when={loading().kind === "failed"}>
				<MessagePage message={t("room.loadFailed")}>
					<button type="button" class="button button--primary" onClick={load}>
						{t("room.retry")}
					</button>
				</MessagePage>
			</Match>
			<Match when={info()}>
				{(room) => (
					<Switch>
						<Match when={step().kind === "prejoin"}>
							<PreJoin
								room={room()}
								onJoined={(credentials, tracks) => setStep({ kind: "call", credentials, tracks })}
								onRoomClosed={onRoomClosed}
							/>
						</Match>
						{/* Keyed: every attempt at the call is a fresh session. */}
						<Match when={callStep()} keyed>
							{(call) => (
								<CallScreen
									room={room()}
									credentials={call.credentials}
									tracks={call.tracks}
									preloadedDevice={preloadedDevice()}
									onEnded={onEnded}
									onLeft={onLeft}
								/>
							)}
						</Match>
						<Match when={endedStep()}>
							{(ended) => (
								<EndedPage message={ended().message} final={ended().final} stay={ended().stay} onRejoin={rejoin} />
							)}
						</Match>
					</Switch>
				)}
			</Match>
		</Switch>
	);
}

/**
 * After the call: rejoin if that can work; home after a countdown (or at once,
 * by the link), except after a lost connection (`stay`), where the page waits.
 */
function EndedPage(props: { message: string; final: boolean; stay: boolean; onRejoin: () => void }): JSX.Element {
	const [secondsLeft, setSecondsLeft] = createSignal<number>(
		props.final ? homeAfterSeconds.final : homeAfterSeconds.rejoinable,
	);
	createEffect(() => {
		if (props.stay) return;
		const timer = window.setInterval(() => setSecondsLeft((left) => left - 1), 1000);
		onCleanup(() => window.clearInterval(timer));
	});
	createEffect(() => {
		if (!props.stay && secondsLeft() <= 0) navigate("/");
	});
	const note = () => (props.stay ? undefined : t("call.goingHome", { seconds: String(Math.max(0, secondsLeft())) }));
	return (
		<MessagePage message={props.message} note={note()}>
			<Show when={!props.final}>
				<button type="button" class="button button--primary" onClick={() => props.onRejoin()}>
					{t("call.rejoin")}
				</button>
			</Show>
		</MessagePage>
	);
}
