/**
 * One error shape for every HTTP answer: Fastify's own `{statusCode, error,
 * message[, code]}` (the protocol's ApiError), whether the error came from
 * validation, a handler, Redis being away or an unknown route.
 */
import { STATUS_CODES } from "node:http";
import type { ApiError } from "@mindmeet/protocol";
import type {
	FastifyError,
	FastifyInstance,
	FastifyReply,
	FastifyRequest,
	FastifySchemaValidationError,
} from "fastify";
import { describeError, isStorageUnavailable } from "./redis.ts";

/** An error whose status and message are meant for the client. */
export class HttpError extends Error {
	readonly statusCode: number;
	constructor(statusCode: number, message: string) {
		super(message);
		this.name = "HttpError";
		this.statusCode = statusCode;
	}
}

/**
 * In the routes of `app`: a path parameter that fails its schema (too long,
 * wrong characters) names nothing that exists, so it is answered as the 404
 * of what it names (`notFound[param]`, or `fallback`), not as a 400. The
 * parameter is read from the validation error's path, never from its text.
 */
export function malformedParamsAreNotFound(
	app: FastifyInstance,
	fallback: () => HttpError,
	notFound: Record<string, () => HttpError> = {},
): void {
	app.setErrorHandler((error: FastifyError, _request, _reply) => {
		if (error.validationContext === "params") {
			const param = error.validation?.[0]?.instancePath.replace(/^\//, "") ?? "";
			throw (notFound[param] ?? fallback)();
		}
		throw error;
	});
}

export const storageUnavailableMessage = "storage unavailable, try again shortly";

/** The request's path without its query string (which may carry a token): the only form of a URL we log. */
export function pathOf(url: string | undefined): string {
	if (!url) return "";
	const q = url.indexOf("?");
	return q === -1 ? url : url.slice(0, q);
}

export function errorBody(statusCode: number, message: string, code?: string): ApiError {
	return {
		statusCode,
		error: STATUS_CODES[statusCode] ?? "Error",
		message,
		...(code ? { code } : {}),
	};
}

interface ErrorFields {
	statusCode?: unknown;
	code?: unknown;
	validation?: unknown;
}

/** Root error handler: storage outages → 503, client errors keep their message, bugs → 500 without details. */
export function apiErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
	if (isStorageUnavailable(error)) {
		request.log.warn({ error: describeError(error) }, "storage unavailable");
		return reply.code(503).send(errorBody(503, storageUnavailableMessage));
	}
	const fields: ErrorFields = typeof error === "object" && error !== null ? (error as ErrorFields) : {};
	const message = error instanceof Error ? error.message : "unexpected error";
	const code = typeof fields.code === "string" ? fields.code : undefined;
	const status =
		typeof fields.statusCode === "number" && fields.statusCode >= 400 && fields.statusCode <= 599
			? fields.statusCode
			: 500;
	if (status >= 500 && !(error instanceof HttpError)) {
		request.log.error({ err: error }, "request failed");
		return reply.code(status).send(errorBody(status, "internal server error"));
	}
	const level = status >= 500 ? "warn" : "info";
	request.log[level]({ statusCode: status, code, reason: message }, "request refused");
	return reply.code(status).send(errorBody(status, message, code));
}

/** Errors Fastify raises before routing (bad percent-encoding…); its own answer would echo the query string. */
export function malformedUrlHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
	request.log.info({ code: error.code, path: pathOf(request.url) }, "malformed request URL");
	void reply.code(400).send(errorBody(400, "malformed URL", error.code));
}

/** Unknown routes: JSON 404 naming the path (never the query string). */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
	return reply.code(404).send(errorBody(404, `Route ${request.method}:${pathOf(request.url)} not found`));
}

/**
 * Validation messages a person can act on: names the unknown field, lists the
 * allowed values of an enum-like union; otherwise Ajv's message prefixed with
 * where it applies (as Fastify does).
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
	const first = errors[0];
	if (!first) return new Error(`${dataVar} is invalid`);
	const where = `${dataVar}${first.instancePath}`;
	if (first.keyword === "additionalProperties" && typeof first.params.additionalProperty === "string") {
		return new Error(`${where} has an unknown field "${first.params.additionalProperty}"`);
	}
	if (first.keyword === "const" || first.keyword === "anyOf") {
		const allowed = errors
			.filter((e) => e.keyword === "const" && e.instancePath === first.instancePath)
			.map((e) => JSON.stringify(e.params.allowedValue));
		if (allowed.length > 0) return new Error(`${where} must be one of ${allowed.join(", ")}`);
	}
	return new Error(`${where} ${first.message ?? "is invalid"}`);
}
