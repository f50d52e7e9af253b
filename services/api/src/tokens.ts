import type { TokenRequest, TokenSigner } from "@mindmeet/protocol/token-keys";

/** Sign a token and return it (claims stay inside the token). */
export type MintToken = (request: TokenRequest) => Promise<string>;

export function tokenMinter(signer: TokenSigner): MintToken {
	return async (request) => (await signer.sign(request)).token;
}
