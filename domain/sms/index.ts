export * from './templates';
export * from './keywords';
export * from './replies';
export * from './rules';
export * from './messages';
export * from './links';
export * from './offer-reply';
