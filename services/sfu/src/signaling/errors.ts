import type { SignalingErrorCode } from "@mindmeet/protocol";

const statusOf: Record<SignalingErrorCode, number> = {
	"bad-request": 400,
	forbidden: 403,
	"not-joined": 403,
	"not-found": 404,
	"unknown-method": 405,
	conflict: 409,
	"rate-limited": 429,
	internal: 500,
};

/** An error a request handler means to send back to the client as is. */
export class SignalingError extends Error {
	readonly code: SignalingErrorCode;
	constructor(code: SignalingErrorCode, message: string) {
		super(message);
		this.name = "SignalingError";
		this.code = code;
	}

	/** protoo error response: numeric code, and a reason that starts with our code. */
	get protooCode(): number {
		return statusOf[this.code];
	}

	get protooReason(): string {
		return `${this.code}: ${this.message}`;
	}
}
