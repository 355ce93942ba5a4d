import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DeadLetterActions, DeadLetterDetail, DeadLetterPage, DeadLetterQueries, DeadLetterStats } from '@philotes/dead-letters';
import { AdminAuthGuard } from './admin-auth.guard';
import { IdParamPipe } from './api-errors';
import { toFilter } from './dto/dead-letter-filter.dto';
import { DiscardMatchingBody, DiscardOneBody, ListDeadLettersQuery, ReplayMatchingBody, ReplayOneBody, StatsQuery } from './dto/dead-letter-requests.dto';

const DEFAULT_PAGE = 100;
const DEFAULT_BULK = 1000;

/** Dead letters: events the writer could not write, kept whole, for an operator to replay or discard. */
@ApiTags('dead letters')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('api/v1/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly queries: DeadLetterQueries,
    private readonly actions: DeadLetterActions,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List dead letters, newest first, with filters and keyset pagination (no row values).' })
  list(@Query() query: ListDeadLettersQuery): Promise<DeadLetterPage> {
    return this.queries.list(toFilter(query), { limit: query.limit ?? DEFAULT_PAGE, ...(query.after ? { after: query.after } : {}) });
  }

  @Get('stats')
  @ApiOperation({ summary: 'Counts by status, overall, per table and per error class.' })
  stats(@Query() query: StatsQuery): Promise<DeadLetterStats> {
    return this.queries.stats(toFilter(query));
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue pending dead letters matching the filter for replay (bounded); returns how many.' })
  @ApiAcceptedResponse({ description: '{ count, more }: queued entries, and whether more matched than the limit.' })
  replayMatching(@Body() body: ReplayMatchingBody): Promise<{ count: number; more: boolean }> {
    const { limit, requestedBy, ...scope } = body;
    return this.actions.replayMatching(toFilter(scope), limit ?? DEFAULT_BULK, { ...(requestedBy ? { requestedBy } : {}) });
  }

  @Post('discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard pending or superseded dead letters matching the filter (bounded), with a reason.' })
  discardMatching(@Body() body: DiscardMatchingBody): Promise<{ count: number; more: boolean }> {
    const { limit, requestedBy, reason, ...filter } = body;
    return this.actions.discardMatching(toFilter(filter), reason, limit ?? DEFAULT_BULK, { ...(requestedBy ? { requestedBy } : {}) });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One dead letter: its event decoded to JSON and its full history.' })
  @ApiNotFoundResponse()
  get(@Param('id', IdParamPipe) id: string): Promise<DeadLetterDetail> {
    return this.queries.get(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue one dead letter for replay; the writer applies it exactly once.' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Discarded, already replayed, or superseded by a later change of its row.' })
  replay(@Param('id', IdParamPipe) id: string, @Body() body: ReplayOneBody): Promise<{ status: 'replaying'; alreadyQueued: boolean }> {
    return this.actions.replay(id, { ...(body.requestedBy ? { requestedBy: body.requestedBy } : {}) });
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard one dead letter with a reason (kept as discarded until retention).' })
  @ApiOkResponse()
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Being replayed, already replayed, or already discarded.' })
  discard(@Param('id', IdParamPipe) id: string, @Body() body: DiscardOneBody): Promise<{ status: 'discarded' }> {
    return this.actions.discard(id, body.reason, { ...(body.requestedBy ? { requestedBy: body.requestedBy } : {}) });
  }
}
