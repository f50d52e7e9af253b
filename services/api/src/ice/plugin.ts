/**
 * ICE servers for the browser's transports. With TURN configured, each
 * participant gets time-limited credentials in coturn's use-auth-secret
 * scheme (TURN REST API): username `<expiry>:<peerId>`, password
 * base64(HMAC-SHA1(secret, username)). coturn checks them with the same shared
 * secret, so nothing is stored and the secret never leaves the server.
 */
import { createHmac } from "node:crypto";
import { ApiError, IceServersResponse, RoomParams } from "@mindmeet/protocol";
import type { FastifyPluginAsync } from "fastify";
import type { TurnConfig } from "../config.ts";
import { malformedParamsAreNotFound } from "../http-errors.ts";
import { bearerToken, type RoomAuthorizer } from "../room-auth.ts";
import { roomNotFound } from "../rooms/store.ts";

export interface IcePluginOptions {
	auth: RoomAuthorizer;
	/** Undefined: no TURN relay, browsers use the SFU's own candidates only. */
	turn: TurnConfig | undefined;
}

/** How long TURN credentials stay valid, seconds: long enough for a call to (re)connect, short enough to be useless if leaked. */
export const turnCredentialTtl = 3600;

export function turnCredentials(
	secret: string,
	peerId: string,
	now = Date.now(),
): { username: string; credential: string } {
	const username = `${Math.floor(now / 1000) + turnCredentialTtl}:${peerId}`;
	const credential = createHmac("sha1", secret).update(username).digest("base64");
	return { username, credential };
}

export const icePlugin: FastifyPluginAsync<IcePluginOptions> = async (app, { auth, turn }) => {
	// A room id that fails the params schema (too long) is just an unknown room.
	malformedParamsAreNotFound(app, roomNotFound);

	app.get<{ Params: RoomParams; Reply: IceServersResponse }>(
		"/api/rooms/:roomId/ice-servers",
		{
			schema: {
				summary: "ICE servers (TURN credentials) for a participant",
				description:
					"Any valid, unrevoked token for the room. Empty list when no TURN server is configured. " +
					`TURN credentials expire after ${turnCredentialTtl} seconds.`,
				tags: ["rooms"],
				params: RoomParams,
				security: [{ roomToken: [] }],
				response: { 200: IceServersResponse, 401: ApiError, 404: ApiError, 503: ApiError },
			},
		},
		async (request, reply) => {
			const claims = await auth.participant(request.params.roomId, bearerToken(request.headers.authorization));
			// Credentials differ per request: never let a shared cache hand them to someone else.
			void reply.header("cache-control", "no-store");
			if (!turn) return { iceServers: [] };
			return { iceServers: [{ urls: turn.urls, ...turnCredentials(turn.secret, claims.sub) }] };
		},
	);
};
