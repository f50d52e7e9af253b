/** What the fan-out run needs from each system under test. */
import type { HeadlessPeer } from "@mindmeet/testing/headless-webrtc";

export interface FanoutSystem {
	readonly name: string;
	/** The system's processes (pinned to the SFU core): their CPU is what is measured. */
	readonly pids: readonly number[];
	/** What each of `pids` is ("node process", "worker"), for the breakdown in the report. */
	readonly roles: readonly string[];
	/** The publisher, connected and producing: the media feed goes into it. */
	readonly publisher: HeadlessPeer;
	/** Add one subscriber, signalled the system's way; resolves once ICE and DTLS are up. */
	subscribe(index: number): Promise<HeadlessPeer>;
	/** What the subscribers negotiated (codecs, feedback, header extensions, SRTP suite), for the report. */
	readonly negotiated: string;
	stop(): Promise<void>;
}
