import type { HostSession, RoomCreationMode } from "@mindmeet/protocol";
import { createSignal, type JSX, Show } from "solid-js";
import { ApiRequestError } from "../api/http.ts";
import { signIn } from "../api/session.ts";
import { t } from "../i18n/index.ts";
import { toastError } from "../ui/errors.ts";

/** Sign-in for hosts, shown instead of "create a room" when the server asks for it. Guests never see it. */
export function HostSignIn(props: {
	mode: Exclude<RoomCreationMode, "open">;
	onSignedIn: (session: HostSession) => void;
}): JSX.Element {
	const [name, setName] = createSignal("");
	const [password, setPassword] = createSignal("");
	const [busy, setBusy] = createSignal(false);
	const [wrong, setWrong] = createSignal(false);
	const accounts = () => props.mode === "accounts";

	const submit = async (event: SubmitEvent) => {
		event.preventDefault();
		if (busy() || !password() || (accounts() && !name().trim())) return;
		setBusy(true);
		setWrong(false);
		try {
			const session = await signIn(
				accounts() ? { name: name().trim(), password: password() } : { password: password() },
			);
			setPassword("");
			props.onSignedIn(session);
		} catch (error) {
			if (error instanceof ApiRequestError && error.status === 401) setWrong(true);
			else toastError(error);
		} finally {
			setBusy(false);
		}
	};

	return (
		<form class="card" onSubmit={submit} aria-labelledby="signin-title">
			<h2 id="signin-title" class="card__title">
				{t("home.signin.title")}
			</h2>
			<p class="signin__hint">{accounts() ? t("home.signin.hintAccounts") : t("home.signin.hintPassword")}</p>
			<Show when={accounts()}>
				<label class="field">
					<span class="field__label">{t("home.signin.name")}</span>
					<input
						class="input"
						data-testid="signin-name"
						name="username"
						autocomplete="username"
						autocapitalize="none"
						spellcheck={false}
						maxLength={64}
						value={name()}
						onInput={(event) => setName(event.currentTarget.value)}
					/>
				</label>
			</Show>
			<label class="field">
				<span class="field__label">{t("home.signin.password")}</span>
				<input
					class="input"
					type="password"
					data-testid="signin-password"
					name="password"
					autocomplete="current-password"
					maxLength={256}
					value={password()}
					onInput={(event) => setPassword(event.currentTarget.value)}
				/>
			</label>
			<Show when={wrong()}>
				<p class="signin__error" role="alert" data-testid="signin-error">
					{accounts() ? t("home.signin.wrongCredentials") : t("home.signin.wrongPassword")}
				</p>
			</Show>
			<button class="button button--primary" type="submit" data-testid="signin-submit" disabled={busy()}>
				{busy() ? t("home.signin.submitting") : t("home.signin.submit")}
			</button>
		</form>
	);
}
