import { createSignal, type JSX } from "solid-js";
import { navigate } from "../app/router.tsx";
import { t } from "../i18n/index.ts";
import { showToast } from "../ui/toasts.tsx";
import { parseRoomCode } from "./room-code.ts";

export function JoinRoomForm(): JSX.Element {
	const [code, setCode] = createSignal("");

	const submit = (event: SubmitEvent) => {
		event.preventDefault();
		const roomId = parseRoomCode(code());
		if (!roomId) {
			showToast(t("home.join.invalid"));
			return;
		}
		navigate(`/r/${encodeURIComponent(roomId)}`);
	};

	return (
		<form class="card" onSubmit={submit} aria-labelledby="join-title">
			<h2 id="join-title" class="card__title">
				{t("home.join.title")}
			</h2>
			<label class="field">
				<span class="field__label">{t("home.join.code")}</span>
				<input
					class="input"
					data-testid="join-code"
					name="code"
					autocomplete="off"
					autocapitalize="off"
					spellcheck={false}
					placeholder={t("home.join.codePlaceholder")}
					value={code()}
					onInput={(event) => setCode(event.currentTarget.value)}
				/>
			</label>
			<button class="button button--secondary" type="submit" data-testid="join-room">
				{t("home.join.submit")}
			</button>
		</form>
	);
}
