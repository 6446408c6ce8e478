import type { PlatformLimits } from '../../core/relay';
import type { RelayRequest, RelayResponse } from '../../core/types';
import type { Json } from './translate';

/** One event-style runtime: how to recognise its events, read them, and answer in its format. */
export interface EventPlatform {
  /** Named in logs and error messages. */
  name: string;
  limits: PlatformLimits;
  /** Events are told apart by the fields only that runtime sends. */
  recognises(event: Json): boolean;
  toRequest(event: Json): RelayRequest;
  toResult(response: RelayResponse): unknown;
}
