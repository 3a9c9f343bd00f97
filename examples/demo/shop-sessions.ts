import type { Request, Session } from '@crawlee/core';
import {
    type Download,
    type InitRequest,
    type Location,
    LocationSessionConfig,
    type SessionResponse,
} from '@managed-sessions/crawlee';

/** Crawlee's blocked status codes: the shop answers 403 to a request without a valid session. */
const BLOCKED = new Set([401, 403, 429]);
const POSTAL_CODE = /<span id="postal-code">([^<]*)<\/span>/;

/**
 * Sessions of the demo shop with a delivery location.
 *
 * - Init: the shop sets a location only for a session it already knows, so the init is a chain:
 *   the home page (which sets the `sid` cookie), then `POST /location` from `locationParams()`.
 * - Check: the shop ends a session after a number of uses by serving an "expired" page with
 *   status **200**, so a status check alone would keep the session and store a useless page. The
 *   check looks at the body, and also rejects a page priced for another postal code.
 */
export class ShopLocationSessions extends LocationSessionConfig {
    override async initSession(session: Session, request: Request, download: Download): Promise<boolean> {
        const home = await download({ url: new URL('/', request.url).href });
        if (home.statusCode !== 200) return false;
        // The default init: download `locationParams()` and run `locationCheck()` on the answer.
        return super.initSession(session, request, download);
    }

    override locationParams(request: Request, location: Location): InitRequest {
        return {
            url: new URL('/location', request.url).href,
            method: 'POST',
            form: { postalCode: location.postalCode ?? '' },
        };
    }

    override locationCheck(
        response: SessionResponse,
        _request: Request,
        _session: Session,
        location: Location,
    ): boolean {
        if (BLOCKED.has(response.statusCode)) return false;
        if (response.body.includes('<h1 id="expired">')) return false;
        // Catalogue pages show no postal code; product pages and the location answer do.
        const shown = POSTAL_CODE.exec(response.body)?.[1];
        return shown === undefined || shown === location.postalCode;
    }
}
