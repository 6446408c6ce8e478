import type { PlatformLimits } from '../../core/relay';
import type { RelayRequest, RelayResponse } from '../../core/types';
import type { Json } from './translate';

/** One event-style runtime: how to recognise its events, read them, and answer in its format. */
export interface EventPlatform {
  /** Named in logs and error messages. */
  name: string;
  limits: PlatformLimits;
  /**
   * Events are told apart by the fields only that runtime sends, and by how they arrive: Aliyun hands
   * a function a Buffer of JSON (`fromBuffer`), Tencent and AWS an object.
   */
  recognises(event: Json, fromBuffer: boolean): boolean;
  toRequest(event: Json): RelayRequest;
  toResult(response: RelayResponse): unknown;
}
