import type { RoomInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, Match, Switch } from "solid-js";
import { getRoom } from "../api/rooms.ts";
import { navigate } from "../app/router.tsx";
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
	| { kind: "ended"; message: string };

function endMessage(end: CallEnd): string {
	if (end.kind === "disconnected") return t("call.disconnected");
	if (end.kind === "failed") return t("error.generic");
	const keys: Partial<Record<typeof end.reason, MessageKey>> = {
		"token-missing": "refused.token",
		"token-invalid": "refused.token",
		"token-expired": "refused.token",
		"token-revoked": "refused.token",
		"wrong-room": "refused.token",
		"room-not-found": "refused.room",
		"duplicate-peer": "refused.duplicate",
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
	const callStep = () => {
		const current = step();
		return current.kind === "call" ? current : undefined;
	};
	const endedStep = () => {
		const current = step();
		return current.kind === "ended" ? current : undefined;
	};

	const onEnded = (end: CallEnd) => {
		// A refused token will be refused again; a dropped connection may still rejoin with it.
		if (end.kind === "refused") forgetCredentials(props.roomId);
		const message = endMessage(end);
		showToast(message);
		setStep({ kind: "ended", message });
	};
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
							/>
						</Match>
						{/* Keyed: every attempt at the call is a fresh session. */}
						<Match when={callStep()} keyed>
							{(call) => (
								<CallScreen
									room={room()}
									credentials={call.credentials}
									tracks={call.tracks}
									onEnded={onEnded}
									onLeft={onLeft}
								/>
							)}
						</Match>
						<Match when={endedStep()}>
							{(ended) => (
								<MessagePage message={ended().message}>
									<button type="button" class="button button--primary" onClick={rejoin}>
										{t("call.rejoin")}
									</button>
								</MessagePage>
							)}
						</Match>
					</Switch>
				)}
			</Match>
		</Switch>
	);
}
