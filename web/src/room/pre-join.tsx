import { type KnockResponse, normalizeName, type RoomInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, Match, Show, Switch } from "solid-js";
import { ApiRequestError } from "../api/http.ts";
import { isRoomFull, knock } from "../api/lobby.ts";
import { markJoin } from "../call/join-timeline.ts";
import { t } from "../i18n/index.ts";
import type { WaitOutcome } from "../lobby/guest-wait.ts";
import { WaitingCard } from "../lobby/waiting-card.tsx";
import { BrowserSupportNotice, createBrowserSupport } from "../media/browser-support.tsx";
import { type LocalTracks, mediaProblemMessage } from "../media/devices.ts";
import { TrackVideo } from "../media/track-view.tsx";
import { Avatar } from "../ui/avatar.tsx";
import { toastError } from "../ui/errors.ts";
import { CamIcon, CamOffIcon, MicIcon, MicOffIcon } from "../ui/icons.tsx";
import { nameInput, nameToSend, rememberedName, rememberName } from "../ui/remembered-name.ts";
import { showToast } from "../ui/toasts.tsx";
import { type RoomCredentials, saveCredentials } from "./credentials.ts";
import { DevicePickers } from "./device-pickers.tsx";
import { createLocalMedia } from "./local-media.ts";

/**
 * Where the guest is in asking to join. The preview stays on screen (and the
 * devices open) throughout, so an admitted guest goes in with what they see.
 */
type Phase = { kind: "form" } | { kind: "knocking" } | { kind: "waiting"; knock: KnockResponse };

export function PreJoin(props: {
	room: RoomInfo;
	onJoined: (credentials: RoomCredentials, tracks: LocalTracks) => void;
	onRoomClosed: () => void;
}): JSX.Element {
	const media = createLocalMedia(props.room.mode);
	const browser = createBrowserSupport();
	const [name, setName] = createSignal(rememberedName());
	const [phase, setPhase] = createSignal<Phase>({ kind: "form" });
	/** The last knock was refused because the room is full: said on the form until the next try. */
	const [roomFull, setRoomFull] = createSignal(false);
	const busy = () => phase().kind === "knocking";
	const waitingKnock = () => {
		const current = phase();
		return current.kind === "waiting" ? current.knock : undefined;
	};
	const isVideoRoom = () => props.room.mode === "video";
	const micOn = () => Boolean(media.tracks().audio);
	const camOn = () => Boolean(media.tracks().video);
	const switchDevice = (kind: keyof LocalTracks, deviceId: string) => {
		media.useDevice(kind, deviceId).catch(() => showToast(t("media.deviceFailed")));
	};

	const submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (busy() || browser.blocked()) return;
		const displayName = nameToSend(name());
		if (!displayName) return;
		setPhase({ kind: "knocking" });
		setRoomFull(false);
		markJoin("knock");
		try {
			const knocked = await knock(props.room.roomId, displayName);
			rememberName(displayName);
			setPhase({ kind: "waiting", knock: knocked });
		} catch (error) {
			// 404: the room ended since this page loaded. 400/429 carry their own message.
			// 409 room-full: no place now; said in our words (a toast, and on the form until the next try).
			if (error instanceof ApiRequestError && error.status === 404) showToast(t("room.notFound"));
			else if (isRoomFull(error)) {
				showToast(t("waiting.roomFull"));
				setRoomFull(true);
			} else toastError(error);
			setPhase({ kind: "form" });
		}
	};

	const onOutcome = (outcome: WaitOutcome) => {
		switch (outcome.kind) {
			case "admitted":
				markJoin("admitted");
				saveCredentials(props.room.roomId, outcome.credentials);
				props.onJoined(outcome.credentials, media.handOver());
				break;
			// Back to the form either way: asking again is allowed.
			case "denied":
				showToast(t("waiting.denied"));
				setPhase({ kind: "form" });
				break;
			case "expired":
				showToast(t("waiting.expired"));
				setPhase({ kind: "form" });
				break;
			case "room-closed":
				props.onRoomClosed();
				break;
			case "failed":
				showToast(t("error.generic"));
				setPhase({ kind: "form" });
				break;
		}
	};

	return (
		<main class="prejoin">
			<div class="prejoin__preview">
				<Show
					when={media.tracks().video}
					fallback={
						<div class="prejoin__placeholder">
							<Avatar name={normalizeName(name()) || "?"} />
							<span class="prejoin__placeholder-text">
								{isVideoRoom() ? t("prejoin.cameraOff") : t("prejoin.audioRoom")}
							</span>
						</div>
					}
				>
					{(track) => <TrackVideo class="prejoin__video" track={track()} muted mirrored />}
				</Show>
				<div class="prejoin__toggles">
					<button
						type="button"
						class="round-button"
						classList={{ "round-button--off": !micOn() }}
						data-testid="mic-toggle"
						aria-label={t("media.mic")}
						title={t("media.mic")}
						aria-pressed={micOn()}
						disabled={media.pending()}
						onClick={() => media.toggle("audio")}
					>
						<Show when={micOn()} fallback={<MicOffIcon />}>
							<MicIcon />
						</Show>
					</button>
					<Show when={isVideoRoom()}>
						<button
							type="button"
							class="round-button"
							classList={{ "round-button--off": !camOn() }}
							data-testid="cam-toggle"
							aria-label={t("media.cam")}
							title={t("media.cam")}
							aria-pressed={camOn()}
							disabled={media.pending()}
							onClick={() => media.toggle("video")}
						>
							<Show when={camOn()} fallback={<CamOffIcon />}>
								<CamIcon />
							</Show>
						</button>
					</Show>
				</div>
			</div>

			<Switch>
				<Match when={waitingKnock()} keyed>
					{(pending) => (
						<WaitingCard
							roomId={props.room.roomId}
							knock={pending}
							onOutcome={onOutcome}
							onCancel={() => setPhase({ kind: "form" })}
						/>
					)}
				</Match>
				<Match when={!waitingKnock()}>
					<form
						class="card prejoin__form"
						onSubmit={submit}
						aria-labelledby="prejoin-title"
						data-browser-support={browser.support() ?? "checking"}
					>
						<h1 id="prejoin-title" class="card__title">
							{t("prejoin.title")}
						</h1>
						<BrowserSupportNotice support={browser.support()} />
						<Show when={!browser.blocked() && media.problem()}>
							{(problem) => (
								<div class="notice" role="alert">
									<p>{t(mediaProblemMessage(problem()))}</p>
									<p>{t("prejoin.withoutMedia")}</p>
								</div>
							)}
						</Show>
						{/* No role: the toast announces it; this keeps it on screen while the person decides. */}
						<Show when={roomFull()}>
							<div class="notice">
								<p>{t("waiting.roomFull")}</p>
							</div>
						</Show>
						<DevicePickers mode={props.room.mode} tracks={media.tracks()} onSwitch={switchDevice} />
						<label class="field">
							<span class="field__label">{t("prejoin.name")}</span>
							<input
								class="input"
								data-testid="prejoin-name"
								name="name"
								autocomplete="name"
								value={name()}
								onInput={(event) => setName(nameInput(event.currentTarget))}
							/>
						</label>
						<button
							class="button button--primary"
							type="submit"
							data-testid="knock"
							disabled={busy() || browser.blocked()}
						>
							{busy() ? t("prejoin.knocking") : t("prejoin.knock")}
						</button>
					</form>
				</Match>
			</Switch>
		</main>
	);
}
