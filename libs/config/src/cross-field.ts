import { registerDecorator, ValidationArguments } from 'class-validator';
import { formatDuration } from './duration';
import { definitionsOf } from './setting';
import { formatSize } from './size';

/**
 * Rules that relate two settings ("low watermark < high watermark"). The message names the other
 * variable and its value, so the operator sees both sides of the conflict in one line.
 */
function compareWith(
  name: string,
  otherProperty: string,
  holds: (value: number, other: number) => boolean,
  relation: string,
): PropertyDecorator {
  return (target, property) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(property),
      constraints: [otherProperty],
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const other = (args.object as Record<string, unknown>)[otherProperty];
          // When either side is not a number, its own type rule reports it; don't pile on.
          if (typeof value !== 'number' || typeof other !== 'number') return true;
          return holds(value, other);
        },
        defaultMessage(args: ValidationArguments): string {
          const definition = definitionsOf(target.constructor).find((d) => d.property === otherProperty);
          const other = (args.object as Record<string, unknown>)[otherProperty];
          const shown = typeof other !== 'number' ? String(other) : definition?.kind === 'duration' ? formatDuration(other) : definition?.kind === 'size' ? formatSize(other) : String(other);
          return `must be ${relation} ${definition?.env ?? otherProperty} (${shown})`;
        },
      },
    });
  };
}

export const LessThanSetting = (otherProperty: string): PropertyDecorator =>
  compareWith('lessThanSetting', otherProperty, (a, b) => a < b, 'less than');

export const AtMostSetting = (otherProperty: string): PropertyDecorator =>
  compareWith('atMostSetting', otherProperty, (a, b) => a <= b, 'at most');

export const AtLeastSetting = (otherProperty: string): PropertyDecorator =>
  compareWith('atLeastSetting', otherProperty, (a, b) => a >= b, 'at least');
