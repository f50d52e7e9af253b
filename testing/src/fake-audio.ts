/**
 * Files for Chromium's fake microphone (`--use-file-for-fake-audio-capture`),
 * made with sox: a loud tone for whoever must be heard speaking, and quiet
 * room tone for everyone else (Chromium's own fake beep would make every
 * participant a "speaker" now and then).
 */
import { execFileSync } from "node:child_process";

/** sox synth arguments: a 440 Hz tone, loud, pulsing twice a second. */
export const loudTone = ["sine", "440", "vol", "0.9", "tremolo", "2", "90"] as const;
/** sox synth arguments: pink noise far below any speaking threshold. */
export const roomTone = ["pinknoise", "vol", "0.003"] as const;

/** Write a 30 s mono wav (Chromium loops it) of `synth` arguments and effects, with sox. */
export function makeWav(path: string, synth: readonly string[]): void {
	try {
		execFileSync("sox", ["-n", "-r", "48000", "-c", "1", "-b", "16", path, "synth", "30", ...synth], { stdio: "pipe" });
	} catch (error) {
		throw new Error(`could not make ${path} with sox (apt-get install sox): ${String(error)}`);
	}
}
