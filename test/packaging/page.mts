// @ts-nocheck -- see api.mts: the packaging test removes this first line when it copies the file.
// In a project with Playwright, `pageActions` receives Playwright's `Page`, not `unknown` or `any`.
import type { InitRequest } from '@managed-sessions/crawlee';
import type { Page } from 'playwright-core';

export const init: InitRequest = {
    url: 'https://shop.example/',
    pageActions: async (page) => {
        const typed: Page = page;
        await typed.fill('#postal-code', '10001');
        // @ts-expect-error -- fails the check if `page` were `any`: Page has no such method.
        await page.notAPageMethod();
    },
};
