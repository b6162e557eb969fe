// Size limits that every layer enforces the same way (API, CLI, entry checks).

/** Longest chat message, in UTF-8 bytes. */
export const MAX_CHAT_BYTES = 16 * 1024;
/** Longest display name, in characters. */
export const MAX_NAME_CHARS = 100;
