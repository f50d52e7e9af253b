import { For, type JSX, Show } from "solid-js";
import type { CallSession } from "../call/session.ts";
import { createSpeaking } from "../call/speaking.ts";
import { t } from "../i18n/index.ts";
import { FollowSpeakerIcon, ShrinkIcon } from "../ui/icons.tsx";
import { ScreenShareView } from "./screen-share-view.tsx";
import { createSpotlight } from "./spotlight.ts";
import { CallAudio, Tile, TileAction, TileGrid } from "./tile.tsx";

/**
 * What the call shows: shared screens and an enlarged person large (when
 * there are any), everyone else's tiles beside or below them.
 */
export function CallStage(props: { session: CallSession }): JSX.Element {
	const isSpeaking = createSpeaking(props.session);
	const spotlight = createSpotlight(props.session, isSpeaking);
	const peers = () => Object.values(props.session.state.peers);
	const sharing = () => peers().filter((peer) => peer.screenTrack);
	const inGrid = () => peers().filter((peer) => peer.id !== spotlight.featured()?.id);
	const presenting = () => sharing().length > 0 || spotlight.featured() !== undefined;
	return (
		<div class="call-stage" classList={{ "call-stage--presenting": presenting() }}>
			<Show when={presenting()}>
				<div class="featured">
					<For each={sharing()}>{(peer) => <ScreenShareView peer={peer} session={props.session} />}</For>
					<Show when={spotlight.featured()} keyed>
						{(peer) => (
							<Tile
								peer={peer}
								speaking={isSpeaking(peer)}
								session={props.session}
								featured
								actions={
									<>
										<TileAction
											label={t("stage.followSpeaker")}
											testId="stage-follow-speaker"
											pressed={spotlight.following()}
											onClick={() => spotlight.followSpeaker(!spotlight.following())}
										>
											<FollowSpeakerIcon />
										</TileAction>
										<TileAction
											label={t("stage.backToGrid")}
											testId="stage-back-to-grid"
											onClick={spotlight.backToGrid}
										>
											<ShrinkIcon />
										</TileAction>
									</>
								}
							/>
						)}
					</Show>
				</div>
			</Show>
			<CallAudio peers={peers()} />
			<TileGrid
				peers={inGrid()}
				session={props.session}
				isSpeaking={isSpeaking}
				onEnlarge={(peer) => spotlight.enlarge(peer.id)}
			/>
		</div>
	);
}
