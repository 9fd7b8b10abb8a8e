import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login.throttle.js';

const MINUTE = 60_000;

function setup() {
  let now = 1_750_000_000_000;
  const throttle = new LoginThrottle({ accountFailures: 5, addressFailures: 8, windowMs: 15 * MINUTE, lockMs: 15 * MINUTE }, () => now);
  return { throttle, advance: (ms: number) => void (now += ms) };
}

describe('LoginThrottle', () => {
  it('locks an account at its fifth failure in a window, for the lock time, then lets it try again', () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 4; i += 1) {
      expect(throttle.retryAfter('a@example.com', '10.0.0.1')).toBe(0);
      throttle.failed('a@example.com', '10.0.0.1');
    }
    expect(throttle.retryAfter('a@example.com', '10.0.0.1')).toBe(0);
    throttle.failed('a@example.com', '10.0.0.1');
    expect(throttle.retryAfter('a@example.com', '10.0.0.1')).toBe(900);
    // From anywhere: the lock is the account's.
    expect(throttle.retryAfter('a@example.com', '10.0.0.2')).toBe(900);
    expect(throttle.retryAfter('b@example.com', '10.0.0.2')).toBe(0);
    advance(10 * MINUTE + 500);
    expect(throttle.retryAfter('a@example.com', '10.0.0.2')).toBe(300);
    advance(5 * MINUTE);
    expect(throttle.retryAfter('a@example.com', '10.0.0.2')).toBe(0);
    // A new window: four more failures do not lock it again.
    for (let i = 0; i < 4; i += 1) throttle.failed('a@example.com', '10.0.0.2');
    expect(throttle.retryAfter('a@example.com', '10.0.0.2')).toBe(0);
  });

  it('counts failures in a window: four now and four after it has passed lock nothing', () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 4; i += 1) throttle.failed('a@example.com', `10.0.0.${i}`);
    advance(15 * MINUTE);
    for (let i = 0; i < 4; i += 1) throttle.failed('a@example.com', `10.0.1.${i}`);
    expect(throttle.retryAfter('a@example.com', '10.0.2.1')).toBe(0);
  });

  it('forgives an account its failures when it signs in', () => {
    const { throttle } = setup();
    for (let i = 0; i < 4; i += 1) throttle.failed('a@example.com', '10.0.0.1');
    throttle.succeeded('a@example.com');
    for (let i = 0; i < 4; i += 1) throttle.failed('a@example.com', '10.0.0.1');
    expect(throttle.retryAfter('a@example.com', '10.0.0.9')).toBe(0);
  });

  it('locks an address that fails at many accounts, for every account, and only that address', () => {
    const { throttle } = setup();
    for (let i = 0; i < 8; i += 1) throttle.failed(`user${i}@example.com`, '10.0.0.1');
    expect(throttle.retryAfter('someone.new@example.com', '10.0.0.1')).toBe(900);
    expect(throttle.retryAfter('someone.new@example.com', '10.0.0.2')).toBe(0);
    // Signing in to one account does not lift the address's lock.
    throttle.succeeded('user0@example.com');
    expect(throttle.retryAfter('user0@example.com', '10.0.0.1')).toBe(900);
  });
});
