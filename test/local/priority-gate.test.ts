import { ForegroundGate } from '../../local/host/priority';

/** A background unit the test finishes by hand. */
function unit(gate: ForegroundGate, log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const ran = gate.runBackground(async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
  });
  return { finish, ran };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('ForegroundGate (interactive requests first)', () => {
  it('runs up to idleLimit background units when no request is in flight, then queues in FIFO order', async () => {
    const gate = new ForegroundGate({ busyLimit: 1, idleLimit: 2 });
    const log: string[] = [];
    const a = unit(gate, log, 'a');
    const b = unit(gate, log, 'b');
    const c = unit(gate, log, 'c');
    await flush();
    expect(log).toEqual(['start a', 'start b']);
    expect(gate.backgroundWaiting).toBe(1);
    b.finish();
    await b.ran;
    await flush();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a.finish();
    c.finish();
    await Promise.all([a.ran, c.ran]);
    expect(gate.backgroundInFlight).toBe(0);
    expect(gate.deferred).toBe(1);
  });

  it('admits only busyLimit units while a request is in flight, and the rest once it ends', async () => {
    const gate = new ForegroundGate({ busyLimit: 1, idleLimit: 4 });
    const log: string[] = [];
    const leave = gate.enterForeground();
    const units = ['a', 'b', 'c'].map((n) => unit(gate, log, n));
    await flush();
    expect(log).toEqual(['start a']);
    units[0]!.finish();
    await units[0]!.ran;
    await flush();
    // Still busy: the next unit runs alone (background never starves).
    expect(log).toEqual(['start a', 'end a', 'start b']);
    leave();
    await flush();
    expect(log).toEqual(['start a', 'end a', 'start b', 'start c']);
    units[1]!.finish();
    units[2]!.finish();
    await Promise.all(units.map((u) => u.ran));
  });

  it('counts a request once however often it is left, and tells waiters when requests are done', async () => {
    const gate = new ForegroundGate();
    const leave1 = gate.enterForeground();
    const leave2 = gate.enterForeground();
    let idle = false;
    void gate.whenForegroundIdle().then(() => (idle = true));
    leave1();
    leave1();
    await flush();
    expect(gate.foregroundInFlight).toBe(1);
    expect(idle).toBe(false);
    leave2();
    await flush();
    expect(idle).toBe(true);
    await expect(gate.whenForegroundIdle()).resolves.toBeUndefined();
  });

  it('passes results and errors of background work through and frees the slot either way', async () => {
    const gate = new ForegroundGate({ busyLimit: 1, idleLimit: 1 });
    await expect(gate.runBackground(async () => 42)).resolves.toBe(42);
    await expect(gate.runBackground(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(gate.backgroundInFlight).toBe(0);
    await expect(gate.runBackground(async () => 'next')).resolves.toBe('next');
  });
});
