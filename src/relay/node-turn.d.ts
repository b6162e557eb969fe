// The part of node-turn (a TURN server in plain JavaScript, CommonJS, without types) the relay uses.
declare module 'node-turn' {
  interface TurnOptions {
    listeningPort?: number;
    listeningIps?: string[];
    relayIps?: string[];
    externalIps?: string | Record<string, string>;
    minPort?: number;
    maxPort?: number;
    authMech?: 'none' | 'short-term' | 'long-term';
    credentials?: Record<string, string>;
    realm?: string;
    debugLevel?: string;
    maxAllocateLifetime?: number;
    defaultAllocatetLifetime?: number;
    debug?: (level: string, message: string) => void;
  }
  class Turn {
    constructor(options: TurnOptions);
    start(): void;
    stop(): void;
    addUser(username: string, password: string): void;
    removeUser(username: string): void;
  }
  export default Turn;
}
