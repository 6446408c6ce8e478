import { RelayError } from '../../core/errors';
import type { Relay } from '../../core/relay';
import type { RelayResponse } from '../../core/types';
import { aliyunApiGateway } from '../aliyun-apigw';
import { handleFc2, isFc2Call, type Fc2Response } from '../aliyun-fc2';
import { aliyunFc3 } from '../aliyun-fc3';
import { awsLambdaV1, awsLambdaV2 } from '../aws-lambda';
import type { EventPlatform } from '../event/platform';
import { parseEvent, simpleResult } from '../event/translate';
import { tencentScf } from '../tencent-scf';

// One handler for every runtime: it looks at how it was called and answers in kind. The bundle of
// each function exports it as `handler` (FC, Lambda) and `main_handler` (SCF's default name).

/** Most specific first: each test relies only on fields the runtimes after it do not send. */
const EVENT_PLATFORMS: readonly EventPlatform[] = [awsLambdaV2, aliyunFc3, tencentScf, aliyunApiGateway, awsLambdaV1];

type Callback = (error: unknown, result?: unknown) => void;

/**
 * Declared with rest parameters (arity 0) on purpose: Lambda's newer Node runtimes refuse handlers
 * that declare a third `callback` parameter, while older runtimes that pass one still get answered
 * through it.
 */
export function cloudHandler(relay: Relay): (...args: unknown[]) => Promise<unknown> | undefined {
  return (...args) => {
    const [first, second, third] = args;
    if (isFc2Call(first, second)) {
      const resp = second as unknown as Fc2Response;
      // FC2 does not look at the returned promise: a failure (the request stream erroring) is answered here.
      return handleFc2(relay, first, resp).catch((error: unknown) => {
        const answer = relay.reject(new RelayError('INTERNAL', 'the request could not be read'), first.method, String(error));
        resp.setStatusCode(answer.status);
        for (const [name, value] of Object.entries(answer.headers)) if (name !== 'content-length') resp.setHeader(name, value);
        resp.send(answer.body);
      });
    }
    const result = handleEvent(relay, first);
    if (typeof third !== 'function') return result;
    const callback = third as Callback;
    result.then(
      (value) => callback(null, value),
      (error: unknown) => callback(error),
    );
    return undefined;
  };
}

async function handleEvent(relay: Relay, raw: unknown): Promise<unknown> {
  const event = parseEvent(raw);
  const platform = event && EVENT_PLATFORMS.find((candidate) => candidate.recognises(event));
  if (!event || !platform) return simpleResult(rejectEvent(relay, raw, event));
  const response = await relay.handle(platform.toRequest(event), platform.limits);
  return platform.toResult(response);
}

/** Logged with the event's top-level keys only: an unknown event may still carry secrets. */
function rejectEvent(relay: Relay, raw: unknown, event: Record<string, unknown> | undefined): RelayResponse {
  const keys = event ? Object.keys(event).slice(0, 30).join(',') : `(not a JSON object: ${raw === null ? 'null' : typeof raw})`;
  const message = 'the function was called with an event it does not recognise; use an HTTP trigger (see the README for supported runtimes)';
  return relay.reject(new RelayError('BAD_EVENT', message), '-', `event keys: ${keys}`);
}
