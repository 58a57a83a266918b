/** `npm test` must run on the Node version production runs (node@22 is pinned as a dev dependency). */
test('tests run on Node 22 or later', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
});
