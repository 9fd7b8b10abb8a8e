import { Body, Controller, Get, Headers, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  CreatePayment,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyKeyHeader,
  ListPaymentsQuery,
} from '@portal/contracts/api/payment';
import type { Payment, PaymentPage } from '@portal/contracts/api/payment';
import { IdParam } from '@portal/contracts/api';
import { AuthGuard, CurrentUser, badRequest } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import type { IdempotentResult } from './payment.service.js';
import { PaymentService } from './payment.service.js';

/** The parts of Fastify's request and reply these handlers use. */
interface RequestWithId {
  readonly id: string;
}
interface Reply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

function idempotencyKey(value: string | undefined): string {
  const result = IdempotencyKeyHeader.safeParse({ 'idempotency-key': value });
  if (!result.success) {
    throw badRequest(result.error.issues.map((issue) => ({ field: 'header.idempotency-key', message: issue.message })));
  }
  return result.data['idempotency-key'];
}

/** Sends the stored answer: the same status and body whether first given or repeated. */
function answer(reply: Reply, result: IdempotentResult): Payment {
  void reply.status(result.response.status);
  if (result.replayed) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
  return JSON.parse(result.response.body) as Payment;
}

@Controller('api/payment/payments')
@UseGuards(AuthGuard)
export class PaymentController {
  constructor(private readonly payments: PaymentService) {}

  @Post()
  async pay(
    @CurrentUser() user: AuthenticatedUser,
    @Headers('idempotency-key') key: string | undefined,
    @Body({ schema: CreatePayment }) body: CreatePayment,
    @Req() request: RequestWithId,
    @Res({ passthrough: true }) reply: Reply,
  ): Promise<Payment> {
    const result = await this.payments.pay(user.userId, idempotencyKey(key), body, request.id);
    return answer(reply, result);
  }

  @Get()
  list(@CurrentUser() user: AuthenticatedUser, @Query({ schema: ListPaymentsQuery }) query: ListPaymentsQuery): Promise<PaymentPage> {
    return this.payments.list(user.userId, query);
  }

  @Get(':id')
  get(@CurrentUser() user: AuthenticatedUser, @Param('id', { schema: IdParam }) id: string): Promise<Payment> {
    return this.payments.get(user.userId, id);
  }

  @Post(':id/refund')
  async refund(
    @CurrentUser() user: AuthenticatedUser,
    @Headers('idempotency-key') key: string | undefined,
    @Param('id', { schema: IdParam }) id: string,
    @Req() request: RequestWithId,
    @Res({ passthrough: true }) reply: Reply,
  ): Promise<Payment> {
    const result = await this.payments.refund(user.userId, idempotencyKey(key), id, request.id);
    return answer(reply, result);
  }
}
