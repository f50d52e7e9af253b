/**
 * Host sign-in (`/api/session`) and host accounts for operators
 * (`/api/admin/accounts`, behind the admin bearer token like every admin route).
 * What a mode asks of hosts is decided by the HostGate (gate.ts).
 */
import {
	AccountSummary,
	ApiError,
	CreateAccountRequest,
	HostSession,
	SessionStatus,
	SetPasswordRequest,
	SignInRequest,
} from "@mindmeet/protocol";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { adminAuthHook } from "../admin/plugin.ts";
import { limitPerClientAddress } from "../client-address.ts";
import { HttpError, malformedParamsAreNotFound } from "../http-errors.ts";
import { bearerToken } from "../room-auth.ts";
import type { HostGate } from "./gate.ts";

export interface AccountsPluginOptions {
	gate: HostGate;
	/** Sign-in attempts per minute from one client address (IPv6: one /64). */
	signInRateLimit: number;
	adminToken: string | undefined;
}

const AccountParams = Type.Object({ name: Type.String({ maxLength: 64 }) });
type AccountParams = Static<typeof AccountParams>;
const AccountList = Type.Object({ accounts: Type.Array(AccountSummary) });

const errors = { 400: ApiError, 413: ApiError, 415: ApiError, 503: ApiError };

function accountNotFound(): HttpError {
	return new HttpError(404, "no such account");
}

export const accountsPlugin: FastifyPluginAsync<AccountsPluginOptions> = async (app, options) => {
	const { gate } = options;

	await limitPerClientAddress(app, "sign-in attempts");

	app.get<{ Reply: SessionStatus }>(
		"/api/session",
		{
			schema: {
				summary: "Who may create rooms here, and whether this device is signed in",
				description:
					"`roomCreation` is the server's ROOM_CREATION mode: `open` (no sign-in), `password` or `accounts`. " +
					"With `Authorization: Bearer <sign-in token>`, `signedIn` says whether that sign-in still holds.",
				tags: ["rooms"],
				response: { 200: SessionStatus, 503: ApiError },
			},
		},
		async (request) => gate.status(bearerToken(request.headers.authorization)),
	);

	app.post<{ Body: SignInRequest; Reply: HostSession }>(
		"/api/session",
		{
			config: { rateLimit: { max: options.signInRateLimit, timeWindow: 60_000 } },
			schema: {
				summary: "Host sign-in",
				description:
					"`password` mode: `{password}` (the team's host password). `accounts` mode: `{name, password}`. Returns an " +
					"opaque token for `Authorization: Bearer` on POST /api/rooms, valid for HOST_SESSION_TTL seconds (the server " +
					"keeps only its hash). 401 for a wrong password or unknown account (the same answer), 409 in `open` mode. " +
					"Rate-limited per client address (SIGN_IN_RATE_LIMIT per minute, IPv6 per /64).",
				tags: ["rooms"],
				body: SignInRequest,
				response: { 201: HostSession, 401: ApiError, 409: ApiError, 429: ApiError, ...errors },
			},
		},
		async (request, reply) => {
			const session = await gate.signIn(request.body.name, request.body.password);
			request.log.info({ mode: gate.mode, account: session.name }, "host signed in");
			return reply.code(201).send(session);
		},
	);

	app.delete(
		"/api/session",
		{
			schema: {
				summary: "Sign out",
				description: "Ends the sign-in given as `Authorization: Bearer <token>`. Always 204.",
				tags: ["rooms"],
				response: { 204: Type.Null(), 503: ApiError },
			},
		},
		async (request, reply) => {
			const token = bearerToken(request.headers.authorization);
			if (token !== undefined) await gate.signOut(token);
			return reply.code(204).send();
		},
	);

	await app.register(async (admin) => {
		admin.addHook("onRequest", adminAuthHook(options.adminToken));
		// A name longer than any account name is just an unknown account.
		malformedParamsAreNotFound(admin, accountNotFound);
		const tags = { tags: ["admin"], security: [{ adminToken: [] }] };
		const authErrors = { 401: ApiError, 503: ApiError };

		admin.get<{ Reply: Static<typeof AccountList> }>(
			"/api/admin/accounts",
			{
				schema: {
					...tags,
					summary: "List host accounts",
					description: "Names and creation times (never password hashes), by name.",
					response: { 200: AccountList, ...authErrors },
				},
			},
			async () => ({ accounts: await gate.accounts.list() }),
		);

		admin.post<{ Body: CreateAccountRequest; Reply: AccountSummary }>(
			"/api/admin/accounts",
			{
				schema: {
					...tags,
					summary: "Create a host account",
					description:
						"Hosts sign in with it when ROOM_CREATION=accounts. The password is hashed with scrypt; 409 if the name is taken.",
					body: CreateAccountRequest,
					response: { 201: AccountSummary, 409: ApiError, ...errors, ...authErrors },
				},
			},
			async (request, reply) => {
				const result = await gate.accounts.create(request.body.name, request.body.password);
				if (!result.created) throw new HttpError(409, "an account with this name already exists");
				request.log.info({ account: request.body.name }, "account created");
				return reply.code(201).send(result.account);
			},
		);

		admin.delete<{ Params: AccountParams }>(
			"/api/admin/accounts/:name",
			{
				schema: {
					...tags,
					summary: "Delete a host account",
					description: "Its sign-ins stop working at once. Rooms it created go on.",
					params: AccountParams,
					response: { 204: Type.Null(), 404: ApiError, ...authErrors },
				},
			},
			async (request, reply) => {
				if (!(await gate.accounts.remove(request.params.name))) throw accountNotFound();
				request.log.info({ account: request.params.name }, "account deleted");
				return reply.code(204).send();
			},
		);

		admin.put<{ Params: AccountParams; Body: SetPasswordRequest }>(
			"/api/admin/accounts/:name/password",
			{
				schema: {
					...tags,
					summary: "Reset a host account's password",
					description: "Every sign-in made with the old password stops working.",
					params: AccountParams,
					body: SetPasswordRequest,
					response: { 204: Type.Null(), 404: ApiError, ...errors, ...authErrors },
				},
			},
			async (request, reply) => {
				if (!(await gate.accounts.setPassword(request.params.name, request.body.password))) throw accountNotFound();
				request.log.info({ account: request.params.name }, "account password reset");
				return reply.code(204).send();
			},
		);
	});
};
