import type { HostSession, RoomMode, SessionStatus } from "@mindmeet/protocol";
import { createSignal, For, type JSX, onMount, Show } from "solid-js";
import { ApiRequestError } from "../api/http.ts";
import { createRoom } from "../api/rooms.ts";
import { forgetSession, getSessionStatus, rememberedSession, rememberSession, signOut } from "../api/session.ts";
import { navigate } from "../app/router.tsx";
import { type MessageKey, t } from "../i18n/index.ts";
import { BrowserSupportNotice, createBrowserSupport } from "../media/browser-support.tsx";
import { saveCredentials } from "../room/credentials.ts";
import { toastError } from "../ui/errors.ts";
import { nameInput, nameToSend, rememberedName, rememberName } from "../ui/remembered-name.ts";
import { showToast } from "../ui/toasts.tsx";
import { HostSignIn } from "./host-sign-in.tsx";

const modes: { mode: RoomMode; label: MessageKey }[] = [
	{ mode: "video", label: "home.create.modeVideo" },
	{ mode: "audio", label: "home.create.modeAudio" },
];

export function CreateRoomForm(): JSX.Element {
	const [name, setName] = createSignal(rememberedName());
	const [mode, setMode] = createSignal<RoomMode>("video");
	const [busy, setBusy] = createSignal(false);
	const browser = createBrowserSupport();
	// Who may create rooms here (ROOM_CREATION) and this device's sign-in, if the server asks for one.
	const [status, setStatus] = createSignal<SessionStatus>();
	const [session, setSession] = createSignal<HostSession | undefined>(rememberedSession());

	const dropSession = () => {
		forgetSession();
		setSession(undefined);
	};

	onMount(async () => {
		try {
			const current = await getSessionStatus(session()?.token);
			setStatus(current);
			// A remembered sign-in the server no longer honours (expired, password changed, account removed).
			if (current.roomCreation !== "open" && !current.signedIn && session()) dropSession();
		} catch {
			// Status unknown (server away): keep the form; creating will say what is wrong.
		}
	});

	const signInMode = () => {
		const mode = status()?.roomCreation;
		return mode === "password" || mode === "accounts" ? mode : undefined;
	};

	const signedIn = (next: HostSession) => {
		rememberSession(next);
		setSession(next);
	};

	const leave = () => {
		const current = session();
		dropSession();
		if (current) void signOut(current.token).catch(() => undefined);
	};

	const submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (busy() || browser.blocked()) return;
		const hostName = nameToSend(name());
		if (!hostName) return;
		setBusy(true);
		try {
			const room = await createRoom({ hostName, mode: mode() }, session()?.token);
			rememberName(hostName);
			saveCredentials(room.roomId, { token: room.hostToken, peerId: room.peerId });
			navigate(`/r/${encodeURIComponent(room.roomId)}`);
		} catch (error) {
			if (error instanceof ApiRequestError && error.status === 401) {
				// The sign-in no longer holds (or the server now asks for one): sign in again.
				dropSession();
				setStatus(await getSessionStatus().catch(() => status()));
				showToast(t("home.signin.expired"));
			} else {
				toastError(error);
			}
		} finally {
			setBusy(false);
		}
	};

	return (
		<Show
			when={signInMode() === undefined || session() !== undefined}
			fallback={<HostSignIn mode={signInMode() ?? "password"} onSignedIn={signedIn} />}
		>
			<form class="card" onSubmit={submit} aria-labelledby="create-title">
				<h2 id="create-title" class="card__title">
					{t("home.create.title")}
				</h2>
				<BrowserSupportNotice support={browser.support()} />
				<label class="field">
					<span class="field__label">{t("home.create.name")}</span>
					<input
						class="input"
						data-testid="create-name"
						name="name"
						autocomplete="name"
						placeholder={t("home.create.namePlaceholder")}
						value={name()}
						onInput={(event) => setName(nameInput(event.currentTarget))}
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
				<button
					class="button button--primary"
					type="submit"
					data-testid="create-room"
					disabled={busy() || browser.blocked()}
				>
					{busy() ? t("home.create.submitting") : t("home.create.submit")}
				</button>
				<Show when={signInMode() !== undefined && session()}>
					{(current) => (
						<p class="signin__status" data-testid="signed-in">
							<span>
								{current().name !== undefined
									? t("home.signin.signedInAs", { name: current().name ?? "" })
									: t("home.signin.signedInTeam")}
							</span>
							<button class="signin__signout" type="button" data-testid="signout" onClick={leave}>
								{t("home.signin.signOut")}
							</button>
						</p>
					)}
				</Show>
			</form>
		</Show>
	);
}
