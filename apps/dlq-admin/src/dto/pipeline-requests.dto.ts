import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';

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

  @ApiPropertyOptional({ example: 'alice' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  requestedBy?: string;
}
