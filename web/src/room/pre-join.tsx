import { limits, normalizeName, type RoomInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, Show } from "solid-js";
import { joinRoom } from "../api/rooms.ts";
import { t } from "../i18n/index.ts";
import { type LocalTracks, mediaProblemMessage } from "../media/devices.ts";
import { TrackVideo } from "../media/track-view.tsx";
import { Avatar } from "../ui/avatar.tsx";
import { toastError } from "../ui/errors.ts";
import { CamIcon, CamOffIcon, MicIcon, MicOffIcon } from "../ui/icons.tsx";
import { rememberedName, rememberName } from "../ui/remembered-name.ts";
import { showToast } from "../ui/toasts.tsx";
import { type RoomCredentials, saveCredentials } from "./credentials.ts";
import { createLocalMedia } from "./local-media.ts";

export function PreJoin(props: {
	room: RoomInfo;
	onJoined: (credentials: RoomCredentials, tracks: LocalTracks) => void;
}): JSX.Element {
	const media = createLocalMedia(props.room.mode);
	const [name, setName] = createSignal(rememberedName());
	const [busy, setBusy] = createSignal(false);
	const isVideoRoom = () => props.room.mode === "video";
	const micOn = () => Boolean(media.tracks().audio);
	const camOn = () => Boolean(media.tracks().video);

	const submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (busy()) return;
		const displayName = normalizeName(name());
		if (!displayName) {
			showToast(t("form.nameRequired"));
			return;
		}
		setBusy(true);
		try {
			const credentials = await joinRoom(props.room.roomId, { name: displayName });
			rememberName(displayName);
			saveCredentials(props.room.roomId, credentials);
			props.onJoined(credentials, media.handOver());
		} catch (error) {
			toastError(error);
			setBusy(false);
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

			<form class="card prejoin__form" onSubmit={submit} aria-labelledby="prejoin-title">
				<h1 id="prejoin-title" class="card__title">
					{t("prejoin.title")}
				</h1>
				<Show when={media.problem()}>
					{(problem) => (
						<div class="notice" role="alert">
							<p>{t(mediaProblemMessage(problem()))}</p>
							<p>{t("prejoin.withoutMedia")}</p>
						</div>
					)}
				</Show>
				<label class="field">
					<span class="field__label">{t("prejoin.name")}</span>
					<input
						class="input"
						data-testid="prejoin-name"
						name="name"
						autocomplete="name"
						maxLength={limits.nameMaxLength}
						value={name()}
						onInput={(event) => setName(event.currentTarget.value)}
					/>
				</label>
				<button class="button button--primary" type="submit" data-testid="knock" disabled={busy()}>
					{busy() ? t("prejoin.joining") : t("prejoin.knock")}
				</button>
			</form>
		</main>
	);
}
