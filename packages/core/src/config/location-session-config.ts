import type { Request, Session } from '@crawlee/core';
import { locationOf, markDefaultHook } from '../init/params.js';
import type { InitRequest, Location, SessionResponse } from '../types.js';
import { SessionConfig } from './session-config.js';

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

    /** Routes located requests to `locationCheck()`, for code that calls `check()` itself. */
    override check(response: SessionResponse, request: Request, session: Session): boolean | Promise<boolean> {
        const location = locationOf(this, request);
        return location
            ? this.locationCheck(response, request, session, location)
            : super.check(response, request, session);
    }
}

markDefaultHook(LocationSessionConfig.prototype.locationParams);
markDefaultHook(LocationSessionConfig.prototype.locationCheck);
