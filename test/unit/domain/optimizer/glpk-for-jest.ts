import type { GLPK } from 'glpk.js/node';
import { provideGlpk } from '../../../../domain/optimizer';

/**
 * jest's module registry cannot load the ESM-only glpk.js on Node 22; Node's own require, taken from outside
 * the test sandbox, loads it, and the domain then uses that instance (as in optimizer.test.ts).
 */
export async function glpkForJest(): Promise<GLPK> {
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(__filename) as NodeJS.Require;
  const glpk = await (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default();
  provideGlpk(glpk);
  return glpk;
}
