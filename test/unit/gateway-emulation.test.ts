/** Shortcuts of the local gateway that must not change what it answers (local/emulators/gateway.ts). */
import { maxHeaderSize } from 'node:http';
import {
  MAX_INVOKE_PAYLOAD_BYTES,
  mayExceedInvokeLimit,
  requestTime,
} from '../../local/emulators/gateway';

/** The formatting the gateway used before (an Intl formatter per request). */
const withIntl = (date: Date) => {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
};

test('requestContext.time: the same text as with Intl, in every month and at day edges', () => {
  for (let month = 0; month < 12; month++) {
    for (const [day, h, m, s] of [
      [1, 0, 0, 0],
      [28, 23, 59, 59],
      [9, 7, 5, 3],
    ] as const) {
      const date = new Date(Date.UTC(2026, month, day, h, m, s, 999));
      expect(requestTime(date)).toBe(withIntl(date));
    }
  }
  expect(requestTime(new Date(Date.UTC(2026, 10, 23, 22, 5, 9)))).toBe(
    '23/Nov/2026:22:05:09 +0000',
  );
});

test('the invoke-size check is skipped only where no event can reach the limit', () => {
  expect(mayExceedInvokeLimit(Buffer.alloc(2_000))).toBe(false);
  expect(mayExceedInvokeLimit(Buffer.alloc(MAX_INVOKE_PAYLOAD_BYTES))).toBe(true);
  // The largest body it lets through unmeasured, at its worst: every byte a control character
  // (6 bytes in JSON), plus the request line and headers at Node's limit, three times escaped.
  const largest = Math.floor((MAX_INVOKE_PAYLOAD_BYTES - maxHeaderSize * 18 - 64 * 1024) / 6);
  expect([largest, largest + 1].map((n) => mayExceedInvokeLimit(Buffer.alloc(n)))).toEqual([
    false,
    true,
  ]);
  const worstBody = JSON.stringify('\u0001'.repeat(largest)).length;
  const worstHeaders = JSON.stringify('\u0001'.repeat(maxHeaderSize)).length * 3;
  // What is left is the event's own fields (about 1 KB), far below 60 KB.
  expect(worstBody + worstHeaders + 60 * 1024).toBeLessThanOrEqual(MAX_INVOKE_PAYLOAD_BYTES);
  expect(largest).toBeGreaterThan(512 * 1024);
});
