import { type Accessor, createEffect, createSignal, onCleanup } from "solid-js";

/**
 * Speaking detection for our own microphone, in the browser, so our tile
 * glows the moment we speak instead of a round trip to the SFU later.
 *
 * Every `pollMs` the last ~43 ms of audio is measured (RMS, dBFS). We count
 * as speaking while the MEDIAN of the last `windowPolls` measurements (350 ms)
 * is above `speakingThresholdDb`. The median is what tells speech from
 * clicks: speech keeps the level up for most of a syllable, a click or beep
 * is loud for one or two measurements only.
 *
 * Tuned in Chromium: its fake microphone (--use-fake-device-for-media-stream)
 * beeps to about -10 dBFS for one measurement, decaying under -40 dBFS within
 * 100 ms, every 500 ms (about -74 dBov averaged at the SFU). With -40 dBFS it
 * never counts as speaking, while speech-like input of -20 dBFS and of
 * -40 dBFS (the browser's gain control lifts it) counts over 90% of the time.
 */
export const speakingThresholdDb = -40;
const pollMs = 50;
const windowPolls = 7;
/** What the meter shows: -60 dBFS (near silence) is empty, 0 dBFS full. */
const meterFloorDb = -60;
/** Each poll the shown level may fall by this factor only, so the bar decays smoothly instead of flickering. */
const meterRelease = 0.8;

let context: AudioContext | undefined;

/**
 * One context for every meter. Browsers start it suspended until the page
 * has had a click or key press, so it is resumed at the first one.
 */
function audioContext(): AudioContext | undefined {
	if (context) return context;
	try {
		context = new AudioContext();
	} catch {
		return undefined;
	}
	if (context.state === "suspended") {
		const resume = () => {
			void context?.resume().catch(() => {});
			document.removeEventListener("pointerdown", resume);
			document.removeEventListener("keydown", resume);
		};
		document.addEventListener("pointerdown", resume);
		document.addEventListener("keydown", resume);
	}
	return context;
}

function levelDb(samples: Float32Array<ArrayBuffer>): number {
	let sum = 0;
	for (const sample of samples) sum += sample * sample;
	return 10 * Math.log10(sum / samples.length + 1e-13);
}

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? -Infinity;
}

export interface AudioLevel {
	/** 0 (silence) to 1 (full scale), for a meter. */
	level: Accessor<number>;
	speaking: Accessor<boolean>;
}

/** Measure a microphone track while it is given; no track (or a muted one) reads as silence. */
export function createAudioLevel(track: Accessor<MediaStreamTrack | undefined>): AudioLevel {
	const [level, setLevel] = createSignal(0);
	const [speaking, setSpeaking] = createSignal(false);

	createEffect(() => {
		const current = track();
		const ctx = current && audioContext();
		if (!current || !ctx) return;
		const source = ctx.createMediaStreamSource(new MediaStream([current]));
		const analyser = ctx.createAnalyser();
		analyser.fftSize = 2048;
		source.connect(analyser);
		const samples = new Float32Array(analyser.fftSize);
		const recent: number[] = [];
		const timer = window.setInterval(() => {
			analyser.getFloatTimeDomainData(samples);
			const db = levelDb(samples);
			recent.push(db);
			if (recent.length > windowPolls) recent.shift();
			setSpeaking(recent.length === windowPolls && median(recent) > speakingThresholdDb);
			const shown = Math.min(1, Math.max(0, (db - meterFloorDb) / -meterFloorDb));
			setLevel((previous) => Math.max(shown, previous * meterRelease));
		}, pollMs);
		onCleanup(() => {
			window.clearInterval(timer);
			source.disconnect();
			analyser.disconnect();
			setLevel(0);
			setSpeaking(false);
		});
	});

	return { level, speaking };
}
