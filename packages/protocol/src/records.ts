/**
 * Reading JSON records from Redis (and messages from its channels and
 * streams) without trusting them: Redis is shared, outlives versions of the
 * code and can be edited by hand, so every record is checked against its
 * schema from this package before anyone uses it.
 *
 * A separate entry point ("@mindmeet/protocol/records") because it needs
 * TypeBox's compiler, which the web client must not bundle.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";

/** One compiled checker per schema, made on first use: records are read on hot paths (joins, room lookups). */
const checkers = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
	let checker = checkers.get(schema) as TypeCheck<T> | undefined;
	if (!checker) {
		checker = TypeCompiler.Compile(schema);
		checkers.set(schema, checker);
	}
	return checker;
}

/**
 * The record `json` holds, or undefined when there is none (null, undefined,
 * empty), it is not JSON, or it does not match `schema`. Never throws.
 *
 * Unknown extra fields are tolerated and kept (the schemas allow them): an
 * older or newer process may write fields this one does not know, and a
 * record read, changed and written back must not lose them. Where an
 * unknown field must not get through (chat history to browsers, orders to
 * the log), the reader picks the fields it passes on.
 */
export function parseRecord<T extends TSchema>(schema: T, json: string | null | undefined): Static<T> | undefined {
	if (!json) return undefined;
	let value: unknown;
	try {
		value = JSON.parse(json);
	} catch {
		return undefined;
	}
	return checkerFor(schema).Check(value) ? value : undefined;
}
