import type { TokenRequest, TokenSigner } from "@mindmeet/protocol/token-keys";

/** Sign a token and return it (claims stay inside the token). */
export type MintToken = (request: TokenRequest) => Promise<string>;

/**
 * Mint tokens with the signer, republishing its public key first: Redis may
 * have restarted empty (no persistence) since the last publish, and a token
 * whose key is not in Redis cannot be verified by the SFU. One SET per token.
 */
export function tokenMinter(signer: TokenSigner): MintToken {
	return async (request) => {
		await signer.publish();
		const { token } = await signer.sign(request);
		return token;
	};
}
