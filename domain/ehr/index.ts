export * from './ack';
export * from './fhir';
export * from './hl7';
export * from './holds';
export * from './intake';
export * from './siu';
export * from './siu-apply';
export * from './siu-out';
