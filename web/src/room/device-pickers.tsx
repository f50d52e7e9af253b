import type { RoomMode } from "@mindmeet/protocol";
import { For, type JSX, Show } from "solid-js";
import { t } from "../i18n/index.ts";
import { createDeviceList } from "../media/device-list.ts";
import { canChooseSpeaker, preferDevice, preferredDevice } from "../media/device-preferences.ts";
import type { LocalTracks } from "../media/devices.ts";
import { MicLevel } from "./mic-level.tsx";
import "./devices.css";

function DeviceSelect(props: {
	label: string;
	testId: string;
	devices: readonly MediaDeviceInfo[];
	selected: string | undefined;
	onSelect: (deviceId: string) => void;
}): JSX.Element {
	return (
		<label class="field">
			<span class="field__label">{props.label}</span>
			<select
				class="input device-select"
				data-testid={props.testId}
				onChange={(event) => props.onSelect(event.currentTarget.value)}
			>
				<For each={props.devices}>
					{(device, index) => (
						<option value={device.deviceId} selected={device.deviceId === props.selected}>
							{device.label || t("media.unnamedDevice", { number: String(index() + 1) })}
						</option>
					)}
				</For>
			</select>
		</label>
	);
}

/**
 * Microphone, camera (video rooms) and speaker (where the browser can send
 * audio to a chosen one) pickers, with the microphone's level. What is shown
 * as chosen is the device of the track in use, else the remembered choice.
 * Choices are remembered here; switching the track in use is the caller's.
 */
export function DevicePickers(props: {
	mode: RoomMode;
	tracks: LocalTracks;
	onSwitch: (kind: keyof LocalTracks, deviceId: string) => void;
}): JSX.Element {
	// Read again when tracks come and go: permission granted reveals devices and their names.
	const devices = createDeviceList(() => [props.tracks.audio, props.tracks.video]);
	const ofKind = (kind: MediaDeviceKind) => devices().filter((device) => device.kind === kind);
	const inUse = (track: MediaStreamTrack | undefined, kind: MediaDeviceKind) =>
		track?.getSettings().deviceId ?? preferredDevice(kind);
	const choose = (kind: MediaDeviceKind, deviceId: string) => {
		preferDevice(kind, deviceId);
		if (kind === "audioinput") props.onSwitch("audio", deviceId);
		if (kind === "videoinput") props.onSwitch("video", deviceId);
	};

	return (
		<div class="device-pickers">
			<Show when={ofKind("audioinput").length > 0}>
				<DeviceSelect
					label={t("media.mic")}
					testId="mic-select"
					devices={ofKind("audioinput")}
					selected={inUse(props.tracks.audio, "audioinput")}
					onSelect={(id) => choose("audioinput", id)}
				/>
				<MicLevel track={props.tracks.audio} />
			</Show>
			<Show when={props.mode === "video" && ofKind("videoinput").length > 0}>
				<DeviceSelect
					label={t("media.cam")}
					testId="cam-select"
					devices={ofKind("videoinput")}
					selected={inUse(props.tracks.video, "videoinput")}
					onSelect={(id) => choose("videoinput", id)}
				/>
			</Show>
			<Show when={canChooseSpeaker && ofKind("audiooutput").length > 0}>
				<DeviceSelect
					label={t("media.speaker")}
					testId="speaker-select"
					devices={ofKind("audiooutput")}
					selected={preferredDevice("audiooutput") ?? "default"}
					onSelect={(id) => choose("audiooutput", id)}
				/>
			</Show>
		</div>
	);
}
