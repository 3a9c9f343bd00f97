import { Pool } from '../pools/pool.js';
import type { SessionStore, StoreConnection } from './store.js';

/** The default store: each pool lives in this process's memory (the in-memory `Pool`). */
export class MemorySessionStore implements SessionStore {
    open(): StoreConnection {
        return memoryConnection;
    }
}

const memoryConnection: StoreConnection = {
    keepsSessions: false,
    createPool: (id, options, host) => new Pool(id, options, host),
    close: async () => undefined,
};

/** The store used when the option `store` is not set. */
export const memorySessionStore: SessionStore = new MemorySessionStore();
