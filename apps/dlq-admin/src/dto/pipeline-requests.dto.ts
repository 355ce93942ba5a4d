import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length, ValidateNested } from 'class-validator';

/** A source table named in a body: any name, `.` and `..` included, which no URL path can carry. */
export class TableNameBody {
  @ApiProperty({ example: 'public' })
  @IsString()
  @Length(1, 63)
  schema!: string;

  @ApiProperty({ example: 'orders' })
  @IsString()
  @Length(1, 63)
  name!: string;
}

export class PauseBody {
  @ApiPropertyOptional({ description: 'Why; shown in the paused processes’ state.', example: 'warehouse maintenance' })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  reason?: string;

  @ApiPropertyOptional({ example: 'alice' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}

export class ResumeBody {
  @ApiPropertyOptional({ example: 'alice' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}

export class ResyncBody {
  @ApiPropertyOptional({
    description:
      'Whole sources only: start over with a new replication slot (after a lost slot, or a restore or move of the source cluster). Without it the tables are copied again at the current slot position.',
    example: false,
  })
  @IsOptional()
  @IsBoolean()
  fromScratch?: boolean;

  @ApiPropertyOptional({
    type: TableNameBody,
    description:
      'On the source route: resync only this table. For names a URL path cannot carry (every client resolves a `.` or `..` segment); other names may use the table route.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => TableNameBody)
  table?: TableNameBody;

  @ApiPropertyOptional({ example: 'alice' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}
