import type { FanoutSystem } from "./system.ts";
export const janusDescription = "";
export async function startJanus(_options: { eventLoops: number }): Promise<FanoutSystem> {
	throw new Error("not yet");
}
