// Port through which the pure core asks for the few primitives it needs to check entries.
// The crypto layer implements it; tests can too. Keeps core free of native modules.
export interface EntryCrypto {
  hash(bytes: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
