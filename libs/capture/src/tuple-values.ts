import { CdcValue, UNCHANGED_TOAST } from '@philotes/events';
import { ValueParseError } from '@philotes/pg-types';
import { TupleData, UNCHANGED } from '@philotes/pgoutput';
import { RelationState } from './relation-registry';

/**
 * A pgoutput tuple as values. A value whose text does not parse as its type is kept as text (the
 * writer will refuse it and dead-letter the event, naming the column) and reported once per column.
 */
export function tupleValues(tuple: TupleData, relation: RelationState, onUnparsable: (column: string) => void): CdcValue[] {
  const values: CdcValue[] = new Array(tuple.length);
  for (let i = 0; i < tuple.length; i++) {
    const text = tuple[i];
    if (text === null) values[i] = null;
    else if (text === UNCHANGED) values[i] = UNCHANGED_TOAST;
    else {
      try {
        values[i] = relation.parsers[i](text);
      } catch (error) {
        if (!(error instanceof ValueParseError)) throw error;
        onUnparsable(relation.columns[i]?.name ?? String(i));
        values[i] = text;
      }
    }
  }
  return values;
}
