import { IsIn, Matches, Max, Min } from 'class-validator';
import { formatDuration } from './duration';

/**
 * class-validator rules phrased for operators. Each message completes "VARIABLE=value: ...", so the
 * ranges read in the unit the variable is written in (durations as `100ms`, not 100).
 */
function both(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, property) => decorators.forEach((decorate) => decorate(target, property));
}

export const InRange = (min: number, max: number): PropertyDecorator => {
  const message = `must be between ${min} and ${max}`;
  return both(Min(min, { message }), Max(max, { message }));
};

export const DurationInRange = (minMs: number, maxMs: number): PropertyDecorator => {
  const message = `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
  return both(Min(minMs, { message }), Max(maxMs, { message }));
};

export const OneOf = (values: readonly string[]): PropertyDecorator =>
  IsIn([...values], { message: `must be one of ${values.join(', ')}` });

export const Pattern = (pattern: RegExp, description: string): PropertyDecorator =>
  Matches(pattern, { message: `must be ${description}` });
