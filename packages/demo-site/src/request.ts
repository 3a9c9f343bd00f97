import type { IncomingMessage } from 'node:http';

/** The value of cookie `name` in a `Cookie` header (the first one if repeated). */
export function readCookie(header: string | undefined, name: string): string | undefined {
    if (header === undefined) return undefined;
    const prefix = `${name}=`;
    let start = 0;
    while (start < header.length) {
        let end = header.indexOf(';', start);
        if (end === -1) end = header.length;
        while (header.charCodeAt(start) === 32) start++;
        if (header.startsWith(prefix, start)) return header.slice(start + prefix.length, end).trim();
        start = end + 1;
    }
    return undefined;
}

/** Thrown by {@link readFields} for a body the site refuses; `status` is the answer to send. */
export class BadBodyError extends Error {
    override name = 'BadBodyError';

    constructor(
        readonly status: 400 | 413,
        message: string,
    ) {
        super(message);
    }
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a form (`application/x-www-form-urlencoded`) or JSON object body into string fields;
 * non-string JSON values are left out.
 */
export async function readFields(req: IncomingMessage): Promise<{ fields: Map<string, string>; json: boolean }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) throw new BadBodyError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const json = (req.headers['content-type'] ?? '').toLowerCase().includes('json');
    const fields = new Map<string, string>();
    if (!json) {
        for (const [key, value] of new URLSearchParams(text)) if (!fields.has(key)) fields.set(key, value);
        return { fields, json };
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new BadBodyError(400, 'body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new BadBodyError(400, 'JSON body must be an object');
    }
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') fields.set(key, value);
    return { fields, json };
}
