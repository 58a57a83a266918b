// A third-party FHIR client (fhir-kit-client, ESM only, hence this child process) searching and paging to the end.
// argv: baseUrl, principal header, resourceType, search parameters as JSON ({name: value | [values]}).
// Prints {pages: [Bundle...], back: [Bundle...]}: every page following `next`, then from the last back to the first
// following `previous`.
import { Client } from 'fhir-kit-client';

const [baseUrl, principal, resourceType, searchJson] = process.argv.slice(2);
const client = new Client({ baseUrl, customHeaders: { 'x-ms-client-principal': principal } });
const pages = [await client.search({ resourceType, searchParams: JSON.parse(searchJson) })];
for (let next = client.nextPage({ bundle: pages.at(-1) }); next; next = client.nextPage({ bundle: pages.at(-1) })) {
  pages.push(await next);
  if (pages.length > 1000) throw new Error('more than 1000 pages: the next links do not end');
}
const back = [pages.at(-1)];
for (let prev = client.prevPage({ bundle: back.at(-1) }); prev; prev = client.prevPage({ bundle: back.at(-1) })) {
  back.push(await prev);
  if (back.length > 1000) throw new Error('more than 1000 pages: the previous links do not end');
}
process.stdout.write(JSON.stringify({ pages, back }));
