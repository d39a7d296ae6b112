// The I-SPLIT maths: importance curves, candidates, layer-size curve, statistics, calibration.
export * from './cui.js';
export * from './curves.js';
export * from './statistics.js';
export * from './calibration.js';
export * from './choice.js';
