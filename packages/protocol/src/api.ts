import { type Static, Type } from "@sinclair/typebox";
import { RouterRtpCapabilities } from "./capabilities.ts";
import { limits } from "./limits.ts";

/** A room is either a video call or an audio-only call, chosen at creation. */
export const RoomMode = Type.Union([Type.Literal("video"), Type.Literal("audio")]);
export type RoomMode = Static<typeof RoomMode>;

export const PeerRole = Type.Union([Type.Literal("host"), Type.Literal("guest")]);
export type PeerRole = Static<typeof PeerRole>;

/** Room ids: nanoid over an alphabet without look-alike characters (no 0/O/1/l/I). */
export const roomIdAlphabet = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
export const roomIdLength = 10;
export const RoomId = Type.String({
	pattern: `^[${roomIdAlphabet}]{${roomIdLength}}$`,
	description: "Short room id as it appears in the link /r/:roomId",
});

/** A display name before trimming; the server trims and rejects empty results. */
export const DisplayName = Type.String({
	minLength: 1,
	maxLength: limits.nameMaxLength * 2,
	description: `Display name, at most ${limits.nameMaxLength} characters after trimming`,
});

export const CreateRoomRequest = Type.Object(
	{ hostName: DisplayName, mode: RoomMode },
	{ additionalProperties: false },
);
export type CreateRoomRequest = Static<typeof CreateRoomRequest>;

export const CreateRoomResponse = Type.Object({
	roomId: RoomId,
	/** Full link to share, built from PUBLIC_URL. */
	link: Type.String(),
	/** Token for the host: joins the SFU and authorises host actions. Keep it secret. */
	hostToken: Type.String(),
	peerId: Type.String(),
});
export type CreateRoomResponse = Static<typeof CreateRoomResponse>;

export const RoomParams = Type.Object({ roomId: Type.String({ maxLength: 64 }) });
export type RoomParams = Static<typeof RoomParams>;

/** Public facts about a room: no secrets, nothing about who is inside. */
export const RoomInfo = Type.Object({
	roomId: RoomId,
	mode: RoomMode,
	/** Where the browser opens the SFU's protoo WebSocket (absolute ws(s) URL or a path on this origin). */
	sfuUrl: Type.String(),
	/**
	 * The router capabilities of the room's SFU node, as that node published
	 * them (capabilities.ts), so the browser loads its media device before it
	 * holds a token. Absent when the node has not published valid ones: the
	 * browser then asks the SFU (`getRouterRtpCapabilities`) after joining.
	 */
	routerRtpCapabilities: Type.Optional(RouterRtpCapabilities),
});
export type RoomInfo = Static<typeof RoomInfo>;

/** Every API error has this shape (Fastify's own, so validation errors match too). */
export const ApiError = Type.Object({
	statusCode: Type.Integer(),
	error: Type.String(),
	message: Type.String(),
	code: Type.Optional(Type.String()),
});
export type ApiError = Static<typeof ApiError>;

/**
 * ICE servers for the browser's transports (TURN for networks that block the
 * SFU's ports). Credentials are short-lived (TURN REST scheme), so they are
 * only given to holders of a valid token: `GET /api/rooms/:roomId/ice-servers`
 * with `Authorization: Bearer <token>`.
 */
export const IceServersResponse = Type.Object({
	iceServers: Type.Array(
		Type.Object({
			urls: Type.Array(Type.String()),
			username: Type.Optional(Type.String()),
			credential: Type.Optional(Type.String()),
		}),
	),
});
export type IceServersResponse = Static<typeof IceServersResponse>;

/**
 * `POST /api/rooms/:roomId/token` with `Authorization: Bearer <current token>`:
 * a fresh token for someone who is in the call right now (their peer id is in
 * the room's presence), so credentials last as long as the person stays. The
 * role is the current one (the host key), not the old token's. Refused (401)
 * for an expired, forged or revoked token; 403 for someone not in the call;
 * 404 when the room is gone; 503 when storage is unavailable (try later).
 */
export const RenewTokenResponse = Type.Object({
	token: Type.String(),
	peerId: Type.String(),
	role: PeerRole,
	/** Epoch ms when the new token expires; clients renew at about half its life. */
	expiresAt: Type.Integer(),
});
export type RenewTokenResponse = Static<typeof RenewTokenResponse>;

/**
 * Who may create rooms (ROOM_CREATION): `open` (anyone, rate-limited per
 * address), `password` (one host password for the team) or `accounts` (host
 * accounts managed by the operator). Guests never sign in.
 */
export const RoomCreationMode = Type.Union([Type.Literal("open"), Type.Literal("password"), Type.Literal("accounts")]);
export type RoomCreationMode = Static<typeof RoomCreationMode>;

/** Account names: lower-case letters, digits and `.`, `_`, `-`, starting with a letter or digit. */
export const accountNamePattern = "^[a-z0-9][a-z0-9._-]{0,63}$";
export const AccountName = Type.String({
	pattern: accountNamePattern,
	description: "Lower-case letters, digits, '.', '_' and '-', 1–64 characters, starting with a letter or digit",
});
/** Host passwords: long enough not to be guessed in a few tries, short enough to hash cheaply. */
export const HostPassword = Type.String({ minLength: 8, maxLength: 256 });
/** A password presented at sign-in: only bounded (a too-short one simply does not match). */
export const PresentedPassword = Type.String({ minLength: 1, maxLength: 256 });

/**
 * `POST /api/session`: a host signs in to create rooms. `password` mode takes
 * only the team password; `accounts` mode takes the account name too.
 */
export const SignInRequest = Type.Object(
	{ name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), password: PresentedPassword },
	{ additionalProperties: false },
);
export type SignInRequest = Static<typeof SignInRequest>;

/**
 * A host credential: an opaque random token, sent as `Authorization: Bearer
 * <token>` with `POST /api/rooms`. The server keeps only its hash.
 */
export const HostSession = Type.Object({
	token: Type.String(),
	/** The account signed in (accounts mode only). */
	name: Type.Optional(Type.String()),
	/** Epoch ms when the credential stops working. */
	expiresAt: Type.Integer(),
});
export type HostSession = Static<typeof HostSession>;

/** `GET /api/session`: which mode is on, and whether the presented credential (if any) is valid. */
export const SessionStatus = Type.Object({
	roomCreation: RoomCreationMode,
	signedIn: Type.Boolean(),
	name: Type.Optional(Type.String()),
	expiresAt: Type.Optional(Type.Integer()),
});
export type SessionStatus = Static<typeof SessionStatus>;

/** An account as the admin API lists it (never its password hash). */
export const AccountSummary = Type.Object({
	name: Type.String(),
	createdAt: Type.Integer({ description: "Epoch ms" }),
});
export type AccountSummary = Static<typeof AccountSummary>;
export const CreateAccountRequest = Type.Object(
	{ name: AccountName, password: HostPassword },
	{ additionalProperties: false },
);
export type CreateAccountRequest = Static<typeof CreateAccountRequest>;
export const SetPasswordRequest = Type.Object({ password: HostPassword }, { additionalProperties: false });
export type SetPasswordRequest = Static<typeof SetPasswordRequest>;
