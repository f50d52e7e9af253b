import type { JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { CloseButton } from "../ui/panel.tsx";
import { InviteLink } from "./invite.tsx";

/** For a host with nobody else in the call yet: the nudge to invite someone, with the link at hand. */
export function AlonePanel(props: { link: string; onClose: () => void }): JSX.Element {
	return (
		<aside class="alone-panel" data-testid="alone-panel" aria-labelledby="alone-panel-text">
			<div class="alone-panel__header">
				<p id="alone-panel-text" class="alone-panel__text">
					{t("invite.alone")}
				</p>
				<CloseButton onClose={props.onClose} />
			</div>
			<InviteLink link={props.link} />
		</aside>
	);
}
