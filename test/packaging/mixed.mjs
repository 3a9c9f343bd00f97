// A project that loads the packages both ways (its own ESM code, and a CommonJS dependency that
// require()s them): every export must be one object, so a config class registered through one
// loader is found through the other, and the errors are Crawlee's own SessionError subclasses.
import { createRequire } from 'node:module';
import * as esmCore from '@managed-sessions/core';
import * as esmAdapter from '@managed-sessions/crawlee';
import * as esmCrawlee from 'crawlee';

const require = createRequire(import.meta.url);
const cjsCore = require('@managed-sessions/core');
const cjsAdapter = require('@managed-sessions/crawlee');
const cjsCrawlee = require('crawlee');

// A config class built on the require()d SessionConfig, registered through the imported registry
// with the imported decorator (called as a legacy decorator would be), then looked up through require().
class ShopSessions extends cjsCore.SessionConfig {}
esmAdapter.sessionConfig({ include: 'shop.example' })(ShopSessions);
class OtherSessions extends esmCore.SessionConfig {}
cjsAdapter.sessionConfigRegistry.register(OtherSessions, { include: 'other.example' });

const checks = {
    sameRegistry:
        esmCore.sessionConfigRegistry === cjsCore.sessionConfigRegistry &&
        esmAdapter.sessionConfigRegistry === cjsCore.sessionConfigRegistry,
    sameSessionConfig:
        esmCore.SessionConfig === cjsCore.SessionConfig && esmAdapter.SessionConfig === cjsCore.SessionConfig,
    sameAttach: esmAdapter.attachManagedSessions === cjsAdapter.attachManagedSessions,
    registeredViaImportFoundViaRequire:
        cjsCore.sessionConfigRegistry.configFor('https://shop.example/p/1') === ShopSessions,
    registeredViaRequireFoundViaImport:
        esmCore.sessionConfigRegistry.configFor('https://other.example/') === OtherSessions,
    errorsAreCrawleeSessionErrors:
        esmCore.SessionCheckFailedError.prototype instanceof esmCrawlee.SessionError &&
        cjsCore.SessionDownloadError.prototype instanceof esmCrawlee.SessionError &&
        esmAdapter.SessionCheckFailedError.prototype instanceof cjsCrawlee.SessionError,
};
console.log(`RESULT ${JSON.stringify(checks)}`);
