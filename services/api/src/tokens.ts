import type { TokenRequest, TokenSigner, TokenVerifier } from "@mindmeet/protocol/token-keys";

/** Sign a token and return it (claims stay inside the token). */
export type MintToken = (request: TokenRequest) => Promise<string>;

/** Signs with `signer`; `verifier` remembers each token as good, so this instance never re-checks its own signature. */
export function tokenMinter(signer: TokenSigner, verifier: TokenVerifier): MintToken {
	return async (request) => {
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, claims);
		return token;
	};
}
