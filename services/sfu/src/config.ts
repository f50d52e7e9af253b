import { cpus, hostname } from "node:os";

export interface SfuConfig {
	redisUrl: string;
	nodeId: string;
	signalingHost: string;
	/** 0 picks a free port (tests). */
	signalingPort: number;
	/** How the API reaches this node; derived from host and port when not set. */
	signalingUrl: string | undefined;
	/** ws(s) URL browsers may reach directly; unset means they go through the API. */
	publicUrl: string | undefined;
	workers: number;
	listenIp: string;
	announcedAddress: string | undefined;
	/** First media port; worker i listens on rtcPort + i. 0 lets each worker pick a free port (tests). */
	rtcPort: number;
	workerBin: string | undefined;
	logLevel: string;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name];
	if (raw === undefined || raw === "") return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
	}
	return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
	const value = env[name]?.trim();
	return value ? value : undefined;
}

export function loadSfuConfig(env: NodeJS.ProcessEnv): SfuConfig {
	const redisUrl = optional(env, "REDIS_URL");
	if (!redisUrl) throw new Error("REDIS_URL is required (for example redis://127.0.0.1:6379)");
	return {
		redisUrl,
		nodeId: optional(env, "SFU_NODE_ID") ?? hostname(),
		signalingHost: optional(env, "SFU_SIGNALING_HOST") ?? "127.0.0.1",
		signalingPort: integer(env, "SFU_SIGNALING_PORT", 4001, 0, 65535),
		signalingUrl: optional(env, "SFU_SIGNALING_URL"),
		publicUrl: optional(env, "SFU_PUBLIC_URL"),
		workers: integer(env, "SFU_WORKERS", Math.max(1, cpus().length), 1, 64),
		listenIp: optional(env, "SFU_LISTEN_IP") ?? "127.0.0.1",
		announcedAddress: optional(env, "SFU_ANNOUNCED_ADDRESS"),
		rtcPort: integer(env, "SFU_RTC_PORT", 40000, 0, 65535),
		workerBin: optional(env, "MEDIASOUP_WORKER_BIN"),
		logLevel: optional(env, "LOG_LEVEL") ?? "info",
	};
}
