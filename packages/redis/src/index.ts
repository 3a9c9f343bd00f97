export { RedisSessionStore, type RedisSessionStoreOptions } from './store.js';
