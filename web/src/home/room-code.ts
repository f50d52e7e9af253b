import { roomIdAlphabet, roomIdLength } from "@mindmeet/protocol";

const bareId = new RegExp(`^[${roomIdAlphabet}]{${roomIdLength}}$`);
const linkId = /\/r\/([^/?#\s]+)/;

/**
 * The room id in what someone typed or pasted: a bare code, or any link with
 * /r/<id> in it (ours or a copy with extra bits around it). Undefined if neither.
 */
export function parseRoomCode(input: string): string | undefined {
	const text = input.trim();
	if (bareId.test(text)) return text;
	const match = linkId.exec(text)?.[1];
	if (!match) return undefined;
	try {
		return decodeURIComponent(match);
	} catch {
		return undefined;
	}
}
