/** xdm-feedback as a library: the contracts and building blocks. */
export * from './core/types.js';
export * from './errors.js';
