export * from './dead-letter-actions';
export * from './dead-letter-errors';
export * from './dead-letter-queries';
// The model and its views live with the store in libs/buffer; operators' code imports them from here too.
export { DEAD_LETTER_STATUSES } from '@philotes/buffer';
export type { DeadLetterCounts, DeadLetterDetail, DeadLetterFilter, DeadLetterPage, DeadLetterStats, DeadLetterStatus, DeadLetterSummary } from '@philotes/buffer';
