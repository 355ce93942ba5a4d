import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidateBy } from 'class-validator';
import { isPositiveInt8 } from '../api-errors';
import { DeadLetterFilterDto, DeadLetterScopeDto } from './dead-letter-filter.dto';

/** GET /dead-letters: filters plus a keyset page. */
export class ListDeadLettersQuery extends DeadLetterFilterDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.' })
  @IsOptional()
  @ValidateBy({ name: 'isCursor', validator: { validate: isPositiveInt8, defaultMessage: () => 'after must be a cursor returned as nextCursor' } })
  after?: string;
}

export class RequesterDto {
  @ApiPropertyOptional({ description: 'Who asks, recorded in the history (the token is shared).', example: 'alice' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}

export class ReplayOneBody extends RequesterDto {}

export class DiscardOneBody extends RequesterDto {
  @ApiProperty({ description: 'Why it is discarded; kept with the entry.', example: 'test data, not needed downstream' })
  @IsString()
  @Length(1, 1000)
  reason!: string;
}

export class ReplayMatchingBody extends DeadLetterScopeDto {
  @ApiPropertyOptional({ description: 'Most entries to queue (bounded by PHILOTES_ADMIN_REPLAY_LIMIT).', minimum: 1, default: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}

export class DiscardMatchingBody extends ReplayMatchingBody {
  @ApiPropertyOptional({ enum: ['pending', 'superseded'], description: 'Only pending or superseded entries can be discarded; both when absent.' })
  @IsOptional()
  @IsIn(['pending', 'superseded'])
  status?: 'pending' | 'superseded';

  @ApiProperty({ example: 'bad batch from the 2026-11-20 import' })
  @IsString()
  @Length(1, 1000)
  reason!: string;
}

export class StatsQuery extends DeadLetterScopeDto {}
