import type { JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { copyText } from "../ui/clipboard.ts";
import { CopyIcon } from "../ui/icons.tsx";
import { QrCode } from "../ui/qr-code.tsx";
import { showToast } from "../ui/toasts.tsx";

/** The link people open to knock: this very origin, so it works however the server is reached. */
export function roomLink(roomId: string): string {
	return `${window.location.origin}/r/${encodeURIComponent(roomId)}`;
}

/** The room's link to read, copy or scan. Used by the "alone" panel and by the invite button. */
export function InviteLink(props: { link: string }): JSX.Element {
	let field: HTMLInputElement | undefined;

	const copy = async () => {
		const copied = await copyText(props.link, field);
		showToast(t(copied ? "invite.copied" : "invite.copyManually"));
	};

	return (
		<div class="invite">
			<div class="invite__row">
				<label class="field invite__field">
					<span class="field__label">{t("invite.link")}</span>
					<input
						ref={field}
						class="input invite__link"
						data-testid="invite-link"
						readOnly
						value={props.link}
						onFocus={(event) => event.currentTarget.select()}
					/>
				</label>
				<button
					type="button"
					class="button button--primary invite__copy"
					data-testid="copy-link"
					aria-label={t("invite.copy")}
					title={t("invite.copy")}
					onClick={copy}
				>
					<CopyIcon />
				</button>
			</div>
			<QrCode class="invite__qr" text={props.link} label={t("invite.qr")} />
		</div>
	);
}
