import { type Accessor, createEffect, createSignal, onCleanup } from "solid-js";

/**
 * The microphones, cameras and speakers this browser can use, kept current
 * while the calling component lives. Browsers hide devices (no ids, no
 * labels) until a capture permission is granted, so the list is read again
 * whenever `capturing` changes, as well as when devices are plugged in or out.
 */
export function createDeviceList(capturing: Accessor<unknown>): Accessor<readonly MediaDeviceInfo[]> {
	const [devices, setDevices] = createSignal<readonly MediaDeviceInfo[]>([]);
	const media = navigator.mediaDevices;
	let disposed = false;

	const refresh = () => {
		if (!media?.enumerateDevices) return;
		media.enumerateDevices().then(
			// Hidden devices have an empty id and cannot be chosen.
			(all) => {
				if (!disposed) setDevices(all.filter((device) => device.deviceId !== ""));
			},
			() => {},
		);
	};

	createEffect(() => {
		capturing();
		refresh();
	});
	media?.addEventListener("devicechange", refresh);
	onCleanup(() => {
		disposed = true;
		media?.removeEventListener("devicechange", refresh);
	});

	return devices;
}
