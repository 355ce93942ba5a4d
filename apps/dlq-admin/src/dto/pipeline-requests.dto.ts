import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

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
