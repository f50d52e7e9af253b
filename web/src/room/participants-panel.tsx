import { createSignal, For, type JSX, Show } from "solid-js";
import type { CallPeer, CallSession } from "../call/session.ts";
import { t } from "../i18n/index.ts";
import { Avatar } from "../ui/avatar.tsx";
import { CrownIcon, UserXIcon } from "../ui/icons.tsx";
import { Panel } from "../ui/panel.tsx";
import { showToast } from "../ui/toasts.tsx";

/** Everyone in the call, the host marked; the host can remove anyone else. */
export function ParticipantsPanel(props: { session: CallSession; onClose: () => void }): JSX.Element {
	/** Peers being removed, so a second click does not send a second request. */
	const [kicking, setKicking] = createSignal<readonly string[]>([]);

	const kick = async (peer: CallPeer) => {
		setKicking((ids) => [...ids, peer.id]);
		try {
			// Success needs no word here: the peer's peerLeft takes them off the list.
			await props.session.kick(peer.id);
		} catch {
			showToast(t("error.generic"));
		} finally {
			setKicking((ids) => ids.filter((id) => id !== peer.id));
		}
	};

	return (
		<Panel title={t("participants.title")} class="side-panel" onClose={props.onClose}>
			<ul class="participants">
				<For each={Object.values(props.session.state.peers)}>
					{(peer) => (
						<li class="participant" data-testid="participant" data-peer-name={peer.name}>
							<Avatar name={peer.name} />
							<span class="participant__name">{peer.isSelf ? t("call.you", { name: peer.name }) : peer.name}</span>
							<Show when={peer.role === "host"}>
								<span class="participant__host">
									<CrownIcon />
									{t("participants.host")}
								</span>
							</Show>
							<Show when={props.session.isHost && !peer.isSelf}>
								<button
									type="button"
									class="icon-button icon-button--danger"
									data-testid="kick"
									aria-label={t("participants.kick", { name: peer.name })}
									title={t("participants.kick", { name: peer.name })}
									disabled={kicking().includes(peer.id)}
									onClick={() => kick(peer)}
								>
									<UserXIcon />
								</button>
							</Show>
						</li>
					)}
				</For>
			</ul>
		</Panel>
	);
}
