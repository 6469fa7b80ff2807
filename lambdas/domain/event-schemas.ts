/**
 * Every event schema this deployment reads, one entry per domain. The event codec reads this
 * list; it never names a domain itself.
 */
import type { EventSchemas } from '../core/events/upcasting';
import { orderEventSchemas } from './order/upcasters';

export const EVENT_SCHEMAS: EventSchemas = { ...orderEventSchemas };
