/**
 * Marks on the way into a call, as `performance.mark("mindmeet:<step>")`:
 * the join benchmark reads them from the guest's page to say where the time
 * between the knock and the first frame goes, and they show in the browser's
 * performance tools for anyone looking at a slow join. Only the first of
 * each is kept: a page goes into a call once, and a reconnect is not a join.
 */
export type JoinStep =
	/** The guest asked to come in ("Pedir para entrar"). */
	| "knock"
	/** The host admitted the guest: the call's token arrived. */
	| "admitted"
	/** The signaling socket to the SFU is open. */
	| "signaling-open"
	/** Router capabilities loaded into the device, ICE servers and both transports' parameters in hand. */
	| "transports"
	/** The SFU answered `join`: we are in the room. */
	| "joined"
	/** The first remote video's consumer is set up on our side. */
	| "video-consumer"
	/** The receive transport's DTLS is up: media can arrive. */
	| "receiving";

/** The host's side of one admission; marked on the host's page for every knock, not only the first. */
export type AdmitStep =
	/** A knock's modal is on the host's screen. */
	| "knock-shown"
	/** The host chose to admit. */
	| "admit";

export const joinMarkPrefix = "mindmeet:";

const marked = new Set<JoinStep>();

export function markJoin(step: JoinStep): void {
	if (marked.has(step) || typeof performance === "undefined") return;
	marked.add(step);
	performance.mark(`${joinMarkPrefix}${step}`);
}

export function markAdmit(step: AdmitStep): void {
	if (typeof performance !== "undefined") performance.mark(`${joinMarkPrefix}${step}`);
}
