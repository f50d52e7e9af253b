import { type ClientRequestMethod, type ClientRequests, clientRequestSchemas } from "@mindmeet/protocol";
import { Ajv, type ValidateFunction } from "ajv";
import { SignalingError } from "./errors.ts";

const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, strict: false });

const validators = new Map<string, ValidateFunction>(
	Object.entries(clientRequestSchemas).map(([method, schema]) => [method, ajv.compile(schema)]),
);

export function isClientRequestMethod(method: string): method is ClientRequestMethod {
	return validators.has(method);
}

/** Check a request against its declared schema; throws a `bad-request` SignalingError. */
export function validateRequest<M extends ClientRequestMethod>(method: M, data: unknown): ClientRequests[M]["request"] {
	const validate = validators.get(method);
	if (!validate) throw new SignalingError("unknown-method", `unknown method "${method}"`);
	const value = data ?? {};
	if (!validate(value)) {
		const first = validate.errors?.[0];
		const where = first?.instancePath || "data";
		throw new SignalingError("bad-request", `${method}: ${where} ${first?.message ?? "is invalid"}`);
	}
	return value as ClientRequests[M]["request"];
}
