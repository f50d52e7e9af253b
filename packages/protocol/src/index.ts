export * from "./api.ts";
export * from "./capabilities.ts";
export * from "./limits.ts";
export * from "./lobby.ts";
export * from "./redis-keys.ts";
export * from "./signaling.ts";
export * from "./text.ts";
export * from "./tokens.ts";
