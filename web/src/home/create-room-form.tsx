import { limits, type RoomMode } from "@mindmeet/protocol";
import { createSignal, For, type JSX } from "solid-js";
import { createRoom } from "../api/rooms.ts";
import { navigate } from "../app/router.tsx";
import { type MessageKey, t } from "../i18n/index.ts";
import { saveCredentials } from "../room/credentials.ts";
import { toastError } from "../ui/errors.ts";
import { nameToSend, rememberedName, rememberName } from "../ui/remembered-name.ts";

const modes: { mode: RoomMode; label: MessageKey }[] = [
	{ mode: "video", label: "home.create.modeVideo" },
	{ mode: "audio", label: "home.create.modeAudio" },
];

export function CreateRoomForm(): JSX.Element {
	const [name, setName] = createSignal(rememberedName());
	const [mode, setMode] = createSignal<RoomMode>("video");
	const [busy, setBusy] = createSignal(false);

	const submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (busy()) return;
		const hostName = nameToSend(name());
		if (!hostName) return;
		setBusy(true);
		try {
			const room = await createRoom({ hostName, mode: mode() });
			rememberName(hostName);
			saveCredentials(room.roomId, { token: room.hostToken, peerId: room.peerId });
			navigate(`/r/${encodeURIComponent(room.roomId)}`);
		} catch (error) {
			toastError(error);
		} finally {
			setBusy(false);
		}
	};

	return (
		<form class="card" onSubmit={submit} aria-labelledby="create-title">
			<h2 id="create-title" class="card__title">
				{t("home.create.title")}
			</h2>
			<label class="field">
				<span class="field__label">{t("home.create.name")}</span>
				<input
					class="input"
					data-testid="create-name"
					name="name"
					autocomplete="name"
					maxLength={limits.nameMaxLength}
					placeholder={t("home.create.namePlaceholder")}
					value={name()}
					onInput={(event) => setName(event.currentTarget.value)}
				/>
			</label>
			<fieldset class="field segmented">
				<legend class="field__label">{t("home.create.mode")}</legend>
				<div class="segmented__options">
					<For each={modes}>
						{(option) => (
							<label class="segmented__option">
								<input
									type="radio"
									name="mode"
									value={option.mode}
									data-testid={`create-mode-${option.mode}`}
									checked={mode() === option.mode}
									onChange={() => setMode(option.mode)}
								/>
								<span>{t(option.label)}</span>
							</label>
						)}
					</For>
				</div>
			</fieldset>
			<button class="button button--primary" type="submit" data-testid="create-room" disabled={busy()}>
				{busy() ? t("home.create.submitting") : t("home.create.submit")}
			</button>
		</form>
	);
}
