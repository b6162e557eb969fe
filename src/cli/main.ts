console.log("hi", process.version, (await import("sodium-native")).default.crypto_sign_BYTES, (await import("node:sqlite")).DatabaseSync.name)
