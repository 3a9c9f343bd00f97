const DEFAULT_HOOK = Symbol('managed-sessions.defaultHook');

/** Marks a built-in hook so the engine can tell whether a subclass overrode it. */
export function markDefaultHook(fn: object): void {
    (fn as Record<symbol, boolean>)[DEFAULT_HOOK] = true;
}

/** Whether `fn` is a hook a subclass wrote, not one marked with {@link markDefaultHook}. */
export function isOverridden(fn: unknown): boolean {
    return typeof fn === 'function' && !(fn as unknown as Record<symbol, boolean>)[DEFAULT_HOOK];
}
