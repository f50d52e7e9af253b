/**
 * Short cues synthesised with WebAudio, so nothing is downloaded and the
 * sounds cost a few lines each. Add a cue to `cues` and call playSound().
 */

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

const cues = {
	/** Someone knocks: two soft taps. */
	knock: (context, at, output) => {
		tap(context, at, output, 220);
		tap(context, at + 0.16, output, 200);
	},
} satisfies Record<string, Cue>;

export type SoundName = keyof typeof cues;

/** Quiet on purpose: a cue should be noticed, not startle anyone in a call. */
const volume = 0.25;

let context: AudioContext | undefined;

/**
 * Play a cue now. Best effort: without a user gesture on this page the
 * browser may keep audio suspended, and a missed cue is not worth an error.
 */
export function playSound(name: SoundName): void {
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
