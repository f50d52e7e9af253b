/**
 * Token renewal: `POST /api/rooms/:roomId/token` with the current token as
 * bearer gives a fresh one to someone who is in the call right now, so
 * credentials last as long as the person stays (a reload hours into a meeting
 * needs no knock), and stop being renewed the moment they leave or are
 * kicked. The new token keeps the peer id and name and carries the role held
 * now: a guest promoted to host gets a host token (and the host's lifetime),
 * good for the lobby at once.
 */
import { ApiError, type PeerRole, RenewTokenResponse, RoomParams } from "@mindmeet/protocol";
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { HttpError, malformedParamsAreNotFound } from "../http-errors.ts";
import { bearerToken, type RoomAuthorizer } from "../room-auth.ts";
import { roomNotFound } from "../rooms/store.ts";
import type { IssueToken } from "../tokens.ts";

export interface RenewalPluginOptions {
	auth: RoomAuthorizer;
	issueToken: IssueToken;
	hostTokenTtl: number;
	guestTokenTtl: number;
	/** Renewals one peer may make per minute on this instance. */
	renewalsPerMinute: number;
}

const windowMs = 60_000;
/** Past this many tracked peers, windows that are over are swept out (memory stays bounded by active peers). */
const sweepAbove = 10_000;

/**
 * A fixed one-minute window per key, in memory. Per instance is enough: the
 * bound is there to stop a valid token from minting in a loop, not to meter
 * fairly across instances.
 */
export class RenewalLimit {
	readonly #max: number;
	readonly #windows = new Map<string, { start: number; count: number }>();

	constructor(max: number) {
		this.#max = max;
	}

	/** Count one renewal for `key`; the ms until the window reopens when over the limit, else 0. */
	take(key: string, now = Date.now()): number {
		let window = this.#windows.get(key);
		if (!window || now - window.start >= windowMs) {
			if (!window && this.#windows.size >= sweepAbove) this.#sweep(now);
			window = { start: now, count: 0 };
			this.#windows.set(key, window);
		}
		if (window.count >= this.#max) return window.start + windowMs - now;
		window.count++;
		return 0;
	}

	#sweep(now: number): void {
		for (const [key, window] of this.#windows) if (now - window.start >= windowMs) this.#windows.delete(key);
	}
}

const RenewHeaders = Type.Object({
	authorization: Type.Optional(Type.String({ description: "Bearer <the current token>" })),
});

export const renewalPlugin: FastifyPluginAsync<RenewalPluginOptions> = async (app, options) => {
	const { auth, issueToken } = options;
	const limit = new RenewalLimit(options.renewalsPerMinute);

	// A room id that fails the params schema (too long) is just an unknown room.
	malformedParamsAreNotFound(app, roomNotFound);

	app.post<{ Params: RoomParams; Reply: RenewTokenResponse }>(
		"/api/rooms/:roomId/token",
		{
			schema: {
				summary: "Renew a room token while in the call",
				description:
					"Bearer: the current, unexpired token. Only for someone whose peer id is in the call right now; the new " +
					"token keeps the peer id and name, carries the role held now (host or guest) and that role's lifetime " +
					"(HOST_TOKEN_TTL / GUEST_TOKEN_TTL). Renew at about half the token's life. 401 missing, invalid, " +
					"expired, other-room or revoked token (final: drop it); 403 not in the call; 404 room gone; 429 too " +
					`many renewals (TOKEN_RENEWALS_PER_MINUTE per peer, Retry-After); 503 storage unavailable (retry).`,
				tags: ["rooms"],
				params: RoomParams,
				headers: RenewHeaders,
				security: [{ roomToken: [] }],
				response: {
					200: RenewTokenResponse,
					401: ApiError,
					403: ApiError,
					404: ApiError,
					429: ApiError,
					503: ApiError,
				},
			},
		},
		async (request, reply) => {
			const { roomId } = request.params;
			const { claims, role } = await auth.inCall(roomId, bearerToken(request.headers.authorization));
			// After authorisation, so nobody can spend another peer's budget with tokens they cannot sign.
			const waitMs = limit.take(`${roomId}:${claims.sub}`);
			if (waitMs > 0) {
				const seconds = Math.max(1, Math.ceil(waitMs / 1000));
				void reply.header("retry-after", String(seconds));
				throw new HttpError(429, `too many token renewals, try again in ${seconds} seconds`);
			}
			const ttlSeconds = ttlFor(role, options);
			const issued = await issueToken({ room: roomId, peerId: claims.sub, name: claims.name, role, ttlSeconds });
			// A credential: never cached by anything between us and the browser.
			void reply.header("cache-control", "no-store");
			request.log.info({ roomId, peerId: claims.sub, role }, "token renewed");
			return { token: issued.token, peerId: claims.sub, role, expiresAt: issued.claims.exp * 1000 };
		},
	);
};

function ttlFor(role: PeerRole, options: Pick<RenewalPluginOptions, "hostTokenTtl" | "guestTokenTtl">): number {
	return role === "host" ? options.hostTokenTtl : options.guestTokenTtl;
}
