/** Worker of benchmark 4 (see memory.ts); started with `--expose-gc`. */
import { serve } from './ipc.js';
import { measureMemory } from './memory.js';

serve({ measure: ({ sessions }: { sessions: number }) => measureMemory(sessions) });
