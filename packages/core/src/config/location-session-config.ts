import type { Request, Session } from '@crawlee/core';
import { locationOf } from '../init/params.js';
import type { InitRequest, Location, SessionResponse } from '../types.js';
import { markDefaultHook } from './default-hook.js';
import { SessionConfig, type SessionConfigContext } from './session-config.js';

/**
 * Requests whose overridden `locationCheck()` is running, with how many runs. While one runs,
 * `check()` on that request is the base check: a `super.check()` inside `locationCheck()` must not
 * route back into `locationCheck()` (which recursed without end).
 */
const inLocationCheck = new WeakMap<Request, number>();

type LocationCheck = LocationSessionConfig['locationCheck'];

/**
 * A session config that can set a location on the site. For requests that have a location
 * (from `userData.sessionLocation`, option `location` or `location()`), `locationParams()`
 * replaces `params()` and `locationCheck()` replaces `check()`, for init and use responses.
 *
 * @example
 * @sessionConfig({ include: 'shop.example' })
 * class ShopLocation extends LocationSessionConfig {
 *     override locationParams(request: Request, location: Location): InitRequest {
 *         return { url: 'https://shop.example/location', method: 'POST', form: { postalCode: location.postalCode ?? '' } };
 *     }
 *     override locationCheck(response: SessionResponse, request: Request, session: Session, location: Location) {
 *         return response.body.includes(`<span id="postal-code">${location.postalCode}</span>`);
 *     }
 * }
 */
export class LocationSessionConfig extends SessionConfig {
    constructor(context: SessionConfigContext) {
        super(context);
        const own = this.locationCheck;
        // An overridden locationCheck() is marked while it runs, however it is called (by the engine or by check()).
        if (own !== LocationSessionConfig.prototype.locationCheck) {
            const marked: LocationCheck = (response, request, session, location) => {
                inLocationCheck.set(request, (inLocationCheck.get(request) ?? 0) + 1);
                const done = () => {
                    const runs = (inLocationCheck.get(request) ?? 1) - 1;
                    if (runs > 0) inLocationCheck.set(request, runs);
                    else inLocationCheck.delete(request);
                };
                let result: ReturnType<LocationCheck>;
                try {
                    result = own.call(this, response, request, session, location);
                } catch (error) {
                    done();
                    throw error;
                }
                if (result instanceof Promise) return result.finally(done);
                done();
                return result;
            };
            this.locationCheck = marked;
        }
    }

    /**
     * The init request that sets `location`. Override it: left as is, a request with a location
     * stops the crawl with `unsupported_set_location`.
     */
    locationParams(request: Request, _location: Location): InitRequest | Promise<InitRequest> {
        return super.params(request);
    }

    /**
     * Whether `response` shows the session still has `location`. Override it: left as is, located
     * requests are checked with `check()`.
     */
    locationCheck(
        response: SessionResponse,
        request: Request,
        session: Session,
        _location: Location,
    ): boolean | Promise<boolean> {
        return super.check(response, request, session);
    }

    /**
     * Routes located requests to `locationCheck()`, for code that calls `check()` itself. Inside
     * `locationCheck()` (`super.check()`), it is `SessionConfig`'s check: the status-code test.
     */
    override check(response: SessionResponse, request: Request, session: Session): boolean | Promise<boolean> {
        const location = inLocationCheck.has(request) ? undefined : locationOf(this, request);
        return location
            ? this.locationCheck(response, request, session, location)
            : super.check(response, request, session);
    }
}

markDefaultHook(LocationSessionConfig.prototype.locationParams);
markDefaultHook(LocationSessionConfig.prototype.locationCheck);
