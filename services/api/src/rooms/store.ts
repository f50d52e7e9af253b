/**
 * Room records as the API reads them, shared by every plugin that takes a
 * room id from a URL (rooms, lobby, ICE servers, admin).
 */
import { limits, normalizeName, redisKeys, roomIdAlphabet, roomIdLength, StoredRoom } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { nanoid } from "nanoid";
import { HttpError } from "../http-errors.ts";
import type { ApiRedis } from "../redis.ts";

export const roomIdPattern = new RegExp(`^[${roomIdAlphabet}]{${roomIdLength}}$`);

/** Peer ids: in tokens (`sub`), the presence hash and the revoked set. */
export const newPeerId = (): string => nanoid(12);

/** Trim and check a display name; `field` names it in the error. */
export function displayName(raw: string, field: string): string {
	const name = normalizeName(raw);
	if (name.length === 0) throw new HttpError(400, `${field} must not be empty or only spaces`);
	if ([...name].length > limits.nameMaxLength) {
		throw new HttpError(400, `${field} must be at most ${limits.nameMaxLength} characters`);
	}
	return name;
}

export function roomNotFound(): HttpError {
	return new HttpError(404, "room not found");
}

/** The room record, or undefined when there is none or it is unreadable: a record we cannot read is a room we cannot serve. */
export function parseStoredRoom(json: string | null | undefined): StoredRoom | undefined {
	return parseRecord(StoredRoom, json);
}

/** The room, or undefined when the id is malformed or no such room exists (callers never say which). */
export async function findRoom(redis: ApiRedis, roomId: string): Promise<StoredRoom | undefined> {
	if (!roomIdPattern.test(roomId)) return undefined;
	return parseStoredRoom(await redis.get(redisKeys.room(roomId)));
}

/** The room, or a 404 HttpError. */
export async function loadRoom(redis: ApiRedis, roomId: string): Promise<StoredRoom> {
	const room = await findRoom(redis, roomId);
	if (!room) throw roomNotFound();
	return room;
}
