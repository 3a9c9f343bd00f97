import { checkResponse } from '../check/run-check.js';
import type { SessionConfigEngine } from '../config/session-config.js';
import { initRequestFor, initRequestOf } from './params.js';

/** The engine's helpers that the default hooks of `SessionConfig` reach through their context. */
export const configEngine: SessionConfigEngine = {
    initRequestFor,
    checkInit: (config, response, trigger, session) =>
        checkResponse(config, response, initRequestOf(response) ?? trigger, session, 'init'),
};
