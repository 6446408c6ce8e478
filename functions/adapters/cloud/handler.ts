import { RelayError } from '../../core/errors';
import type { Relay } from '../../core/relay';
import type { RelayRequest, RelayResponse } from '../../core/types';
import { aliyunApiGateway } from '../aliyun-apigw';
import { handleFc2, isFc2Call, type Fc2Request, type Fc2Response } from '../aliyun-fc2';
import { aliyunFc3 } from '../aliyun-fc3';
import { awsLambdaV1, awsLambdaV2 } from '../aws-lambda';
import type { EventPlatform } from '../event/platform';
import { parseEvent, simpleResult } from '../event/translate';
import { tencentScf } from '../tencent-scf';

// One handler for every runtime: it looks at how it was called and answers in kind. The bundle of
// each function exports it as `handler` (FC, Lambda) and `main_handler` (SCF's default name).

/** Most specific first: each test relies only on fields the runtimes after it do not send. */
const EVENT_PLATFORMS: readonly EventPlatform[] = [awsLambdaV2, aliyunFc3, awsLambdaV1, aliyunApiGateway, tencentScf];

type Callback = (error: unknown, result?: unknown) => void;

/**
 * Declared with rest parameters (arity 0) on purpose: Lambda's newer Node runtimes refuse handlers
 * that declare a third `callback` parameter, while older runtimes that pass one still get answered
 * through it.
 */
export function cloudHandler(relay: Relay): (...args: unknown[]) => Promise<unknown> | undefined {
  return (...args) => {
    const [first, second, third] = args;
    // Even telling the runtimes apart reads the arguments, which may be hostile (a throwing Proxy).
    let fc2: boolean;
    try {
      fc2 = isFc2Call(first, second);
    } catch (error) {
      return Promise.resolve(simpleResult(relay.reject(new RelayError('BAD_EVENT', 'the function was called with arguments it cannot read'), '-', String(error))));
    }
    if (fc2) return handleFc2(relay, first as Fc2Request, second as unknown as Fc2Response);
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

/**
 * Never throws: an event a platform would not send (wrong types, lone surrogates, missing fields) is
 * answered 400 BAD_EVENT, and anything unforeseen 500 INTERNAL, both in the platform's own format.
 */
async function handleEvent(relay: Relay, raw: unknown): Promise<unknown> {
  const event = safely(() => parseEvent(raw), undefined);
  const fromBuffer = raw instanceof Uint8Array || typeof raw === 'string';
  const platform = event && EVENT_PLATFORMS.find((candidate) => safely(() => candidate.recognises(event, fromBuffer), false));
  if (!event || !platform) return simpleResult(rejectEvent(relay, raw, event));
  let request: RelayRequest;
  try {
    request = platform.toRequest(event);
  } catch (error) {
    const refusal = error instanceof RelayError ? error : new RelayError('BAD_EVENT', `the event is not a valid ${platform.name} HTTP event`);
    return platform.toResult(relay.reject(refusal, '-', error instanceof RelayError ? undefined : String(error)));
  }
  return platform.toResult(await relay.handle(request, platform.limits));
}

function safely<T>(run: () => T, fallback: T): T {
  try {
    return run();
  } catch {
    return fallback;
  }
}

/** Logged with the event's top-level keys only: an unknown event may still carry secrets. */
function rejectEvent(relay: Relay, raw: unknown, event: Record<string, unknown> | undefined): RelayResponse {
  const keys = safely(() => (event ? Object.keys(event).slice(0, 30).map((key) => key.slice(0, 40)).join(',') : `(not a JSON object: ${raw === null ? 'null' : typeof raw})`), '(unreadable)');
  const message = 'the function was called with an event it does not recognise; use an HTTP trigger (see the README for supported runtimes)';
  return relay.reject(new RelayError('BAD_EVENT', message), '-', `event keys: ${keys}`);
}
