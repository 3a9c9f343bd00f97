import { type Configuration, KeyValueStore, type Log } from '@crawlee/core';
import type { SessionManager } from '@managed-sessions/core/internal';

/**
 * Saves the engine's pool state to the crawler's default key-value store on Crawlee's
 * `persistState` events and at teardown, and restores it when a run starts over the same
 * storage. Failures to save are logged, never thrown: a crawl must not die for its bookkeeping.
 */
export class StatePersistence {
    readonly #config: Configuration;
    readonly #log: Log;
    readonly #manager: () => SessionManager;
    #store: KeyValueStore | undefined;
    #listening = false;
    readonly #onPersist = () => void this.save();

    constructor(config: Configuration, manager: () => SessionManager, log: Log) {
        this.#config = config;
        this.#manager = manager;
        this.#log = log;
    }

    get #options() {
        return this.#manager().options.persistState;
    }

    /** Restores the saved record (if any) into the current engine and starts saving on events. */
    async start(): Promise<void> {
        if (!this.#options.enabled) return;
        this.#store = await KeyValueStore.open(null, { config: this.#config });
        const { key } = this.#options;
        const restored = this.#manager().restore(await this.#store.getValue(key), key);
        if (restored > 0) this.#log.info(`Restored ${restored} sessions saved under ${key}.`);
        if (!this.#listening) {
            this.#config.getEventManager().on('persistState', this.#onPersist);
            this.#listening = true;
        }
    }

    /** Writes the current state. */
    async save(): Promise<void> {
        if (!this.#store) return;
        const { key, cookies } = this.#options;
        try {
            await this.#store.setValue(key, this.#manager().snapshot(cookies));
        } catch (error) {
            this.#log.warning(`Could not save the session state under ${key}: ${(error as Error).message}`);
        }
    }

    /** Saves one last time and stops listening. */
    async stop(): Promise<void> {
        if (this.#listening) this.#config.getEventManager().off('persistState', this.#onPersist);
        this.#listening = false;
        await this.save();
    }
}
