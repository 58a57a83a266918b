export * from './history';
export * from './features';
export * from './logistic';
export * from './metrics';
export * from './model';
export * from './ports';
export * from './memory';
export * from './training';
