import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DEAD_LETTER_STATUSES } from '@philotes/dead-letters';
import type { DeadLetterFilter, DeadLetterStatus } from '@philotes/dead-letters';

export const SOURCE_ID = /^[a-z][a-z0-9_-]{0,62}$/;
const SOURCE_RULE = 'source must be a source id: lowercase letters, digits, _ or -, starting with a letter';

/** The filters every dead-letter query shares (status aside: not every action takes one). */
export class DeadLetterScopeDto {
  @ApiPropertyOptional({ description: 'Source id (PHILOTES_CDC_SOURCE_ID of its reader).', example: 'default' })
  @IsOptional()
  @Matches(SOURCE_ID, { message: SOURCE_RULE })
  source?: string;

  @ApiPropertyOptional({ description: 'Source schema of the table.', example: 'public' })
  @IsOptional()
  @IsString()
  @Length(1, 63)
  schema?: string;

  @ApiPropertyOptional({ description: 'Source table name.', example: 'orders' })
  @IsOptional()
  @IsString()
  @Length(1, 63)
  table?: string;

  @ApiPropertyOptional({ description: 'Error class, as the writer classified the failure.', example: 'poison' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  errorClass?: string;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601).', example: '2026-11-21T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class DeadLetterFilterDto extends DeadLetterScopeDto {
  @ApiPropertyOptional({ enum: DEAD_LETTER_STATUSES })
  @IsOptional()
  @IsIn(DEAD_LETTER_STATUSES)
  status?: DeadLetterStatus;
}

/** The DTO as the library's filter (dates parsed; absent fields left out). */
export function toFilter(dto: DeadLetterFilterDto): DeadLetterFilter {
  return {
    ...(dto.source !== undefined ? { source: dto.source } : {}),
    ...(dto.schema !== undefined ? { schema: dto.schema } : {}),
    ...(dto.table !== undefined ? { table: dto.table } : {}),
    ...(dto.errorClass !== undefined ? { errorClass: dto.errorClass } : {}),
    ...(dto.status !== undefined ? { status: dto.status } : {}),
    ...(dto.from !== undefined ? { from: new Date(dto.from) } : {}),
    ...(dto.to !== undefined ? { to: new Date(dto.to) } : {}),
  };
}
