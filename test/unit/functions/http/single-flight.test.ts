import { SingleFlight } from '../../../../functions/http/single-flight';

it('shares one computation between identical concurrent calls and keeps nothing afterwards', async () => {
  const flight = new SingleFlight<number>();
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const compute = async () => {
    runs += 1;
    await gate;
    return runs;
  };
  const a = flight.run('k', compute);
  const b = flight.run('k', compute);
  const c = flight.run('other', compute);
  release();
  expect(await Promise.all([a, b, c])).toEqual([2, 2, 2]);
  expect(runs).toBe(2);
  expect(flight.size).toBe(0);
  // After settling, a new call computes again (no caching).
  await flight.run('k', compute);
  expect(runs).toBe(3);
});

it('shares a failure too, then forgets it', async () => {
  const flight = new SingleFlight<number>();
  const failing = () => Promise.reject(new Error('store down'));
  await expect(Promise.all([flight.run('k', failing), flight.run('k', failing)])).rejects.toThrow('store down');
  await expect(flight.run('k', async () => 1)).resolves.toBe(1);
});
