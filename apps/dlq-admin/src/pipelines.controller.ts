import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Pool } from 'pg';
import { pipelineView, PipelineView } from '@philotes/buffer';
import { ConfigStore } from '@philotes/config';
import { ControlResult, ControlScope, requestResync, ResyncResult, setPaused } from '@philotes/pipelines';
import { BUFFER_POOL, CONFIG_STORE } from '@philotes/runtime';
import { AdminAuthGuard } from './admin-auth.guard';
import { badRequest, PatternParamPipe } from './api-errors';
import { SOURCE_ID } from './dto/dead-letter-filter.dto';
import { PauseBody, ResumeBody, ResyncBody } from './dto/pipeline-requests.dto';

const SourcePipe = new PatternParamPipe('source', SOURCE_ID, 'a source id: lowercase letters, digits, _ or -, starting with a letter');
const NAME = /^.{1,63}$/u;
const SchemaPipe = new PatternParamPipe('schema', NAME, '1 to 63 characters');
const TablePipe = new PatternParamPipe('table', NAME, '1 to 63 characters');

/** Pipeline state and operator control: every process's state, and pause/resume of sources and tables. */
@ApiTags('pipelines')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1')
export class PipelinesController {
  constructor(
    @Inject(BUFFER_POOL) private readonly pool: Pool,
    @Inject(CONFIG_STORE) private readonly config: ConfigStore,
  ) {}

  @Get('pipelines')
  @ApiOperation({ summary: 'Every process (state, heartbeat, checkpoint LSN, lag), every source and table (position, lag, pause, open dead letters).' })
  view(): Promise<PipelineView> {
    const { heartbeatIntervalMs, backpressureStoppedTableMaxBytes } = this.config.settings;
    return pipelineView(this.pool, { heartbeatIntervalMs, stoppedTableMaxBytes: backpressureStoppedTableMaxBytes });
  }

  @Post('sources/:source/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a source: its reader stops consuming the WAL and its tables stop being written.' })
  @ApiNotFoundResponse()
  pauseSource(@Param('source', SourcePipe) source: string, @Body() body: PauseBody): Promise<ControlResult> {
    return this.set({ source }, true, body);
  }

  @Post('sources/:source/resume')
  @HttpCode(200)
  @ApiNotFoundResponse()
  resumeSource(@Param('source', SourcePipe) source: string, @Body() body: ResumeBody): Promise<ControlResult> {
    return this.set({ source }, false, body);
  }

  @Post('sources/:source/tables/:schema/:table/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause one table: writers stop applying it; the reader keeps capturing it into the buffer.' })
  @ApiNotFoundResponse()
  pauseTable(
    @Param('source', SourcePipe) source: string,
    @Param('schema', SchemaPipe) schema: string,
    @Param('table', TablePipe) table: string,
    @Body() body: PauseBody,
  ): Promise<ControlResult> {
    return this.set({ source, table: { schema, name: table } }, true, body);
  }

  @Post('sources/:source/tables/:schema/:table/resume')
  @HttpCode(200)
  @ApiNotFoundResponse()
  resumeTable(
    @Param('source', SourcePipe) source: string,
    @Param('schema', SchemaPipe) schema: string,
    @Param('table', TablePipe) table: string,
    @Body() body: ResumeBody,
  ): Promise<ControlResult> {
    return this.set({ source, table: { schema, name: table } }, false, body);
  }

  @Post('sources/:source/resync')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Copy every table of a source again (fromScratch: with a new slot): each Iceberg table switches from its old content to the copy in one snapshot; positions and dead letters are reset.',
  })
  @ApiNotFoundResponse()
  resyncSource(@Param('source', SourcePipe) source: string, @Body() body: ResyncBody): Promise<ResyncResult> {
    const scope: ControlScope = body.table ? { source, table: { schema: body.table.schema, name: body.table.name } } : { source };
    return requestResync(this.pool, scope, { ...(body.fromScratch ? { fromScratch: true } : {}), ...(body.requestedBy ? { requestedBy: body.requestedBy } : {}) });
  }

  @Post('sources/:source/tables/:schema/:table/resync')
  @HttpCode(202)
  @ApiOperation({ summary: 'Copy one table again while the source streams on: its Iceberg table switches to the copy in one snapshot.' })
  @ApiNotFoundResponse()
  resyncTable(
    @Param('source', SourcePipe) source: string,
    @Param('schema', SchemaPipe) schema: string,
    @Param('table', TablePipe) table: string,
    @Body() body: ResyncBody,
  ): Promise<ResyncResult> {
    if (body.table) throw badRequest('table', 'table: name the table in the path or in the body of the source route, not both');
    return requestResync(this.pool, { source, table: { schema, name: table } }, { ...(body.fromScratch ? { fromScratch: true } : {}), ...(body.requestedBy ? { requestedBy: body.requestedBy } : {}) });
  }

  private set(scope: ControlScope, paused: boolean, body: PauseBody): Promise<ControlResult> {
    return setPaused(this.pool, scope, { paused, ...(body.reason ? { reason: body.reason } : {}), ...(body.requestedBy ? { requestedBy: body.requestedBy } : {}) });
  }
}
