/**
 * Short cues synthesised with WebAudio, so nothing is downloaded and the
 * sounds cost a few lines each. Add a cue to `cues` and call playSound().
 * The person can switch them all off; the choice is remembered on this device.
 */
import { createSignal } from "solid-js";
import { readStored, storageKeys, writeStored } from "../storage.ts";

type Cue = (context: AudioContext, at: number, output: AudioNode) => void;

/** A muffled tap: a low sine that drops in pitch and dies away fast, like a knuckle on wood. */
function tap(context: AudioContext, at: number, output: AudioNode, frequency: number): void {
	const oscillator = context.createOscillator();
	const envelope = context.createGain();
	oscillator.type = "sine";
	oscillator.frequency.setValueAtTime(frequency, at);
	oscillator.frequency.exponentialRampToValueAtTime(frequency * 0.55, at + 0.09);
	envelope.gain.setValueAtTime(0.0001, at);
	envelope.gain.exponentialRampToValueAtTime(1, at + 0.005);
	envelope.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
	oscillator.connect(envelope).connect(output);
	oscillator.start(at);
	oscillator.stop(at + 0.13);
}

/**
 * A soft bell-like note: a sine with a gentle (not clicky) attack and a short
 * exponential tail. `level` below 1 makes a note sit behind its neighbour.
 */
function note(context: AudioContext, at: number, output: AudioNode, frequency: number, length = 0.22, level = 1): void {
	const oscillator = context.createOscillator();
	const envelope = context.createGain();
	oscillator.type = "sine";
	oscillator.frequency.setValueAtTime(frequency, at);
	envelope.gain.setValueAtTime(0.0001, at);
	envelope.gain.exponentialRampToValueAtTime(level, at + 0.02);
	envelope.gain.exponentialRampToValueAtTime(0.0001, at + length);
	oscillator.connect(envelope).connect(output);
	oscillator.start(at);
	oscillator.stop(at + length + 0.02);
}

const cues = {
	/** Someone knocks: two soft taps. */
	knock: (context, at, output) => {
		tap(context, at, output, 220);
		tap(context, at + 0.16, output, 200);
	},
	/** Someone came in: a rising fifth (C5 → G5), the "hello" shape. */
	join: (context, at, output) => {
		note(context, at, output, 523.25, 0.2, 0.7);
		note(context, at + 0.11, output, 783.99, 0.28);
	},
	/** Someone went away: the same fifth falling, quieter, so it reads as "goodbye" rather than an alarm. */
	leave: (context, at, output) => {
		note(context, at, output, 783.99, 0.2, 0.6);
		note(context, at + 0.11, output, 523.25, 0.28, 0.6);
	},
	/** A new chat message: one short high blip with a faint octave echo. */
	message: (context, at, output) => {
		note(context, at, output, 1046.5, 0.12, 0.6);
		note(context, at + 0.07, output, 1318.5, 0.16, 0.35);
	},
} satisfies Record<string, Cue>;

export type SoundName = keyof typeof cues;

/** Quiet on purpose: a cue should be noticed, not startle anyone in a call. */
const volume = 0.25;

const [soundsOn, setSoundsOnSignal] = createSignal(readStored("local", storageKeys.sounds) !== "off");

/** Whether cues play; reactive, for the switch that shows it. */
export { soundsOn };

export function setSoundsOn(on: boolean): void {
	writeStored("local", storageKeys.sounds, on ? "on" : "off");
	setSoundsOnSignal(on);
}

let context: AudioContext | undefined;

/**
 * Play a cue now, unless the person switched sounds off. Best effort: without
 * a user gesture on this page the browser may keep audio suspended, and a
 * missed cue is not worth an error.
 */
export function playSound(name: SoundName): void {
	if (!soundsOn()) return;
	try {
		context ??= new AudioContext();
		if (context.state === "suspended") void context.resume().catch(() => {});
		const output = context.createGain();
		output.gain.value = volume;
		output.connect(context.destination);
		cues[name](context, context.currentTime + 0.01, output);
	} catch {
		// No WebAudio here: the cue is simply not heard.
	}
}
