<?php
// Laravel middleware for the backend: accept only requests that came through mp-relay, signed with
// RELAY_SIGNING_SECRET. Register it (e.g. as 'relay.signed') and set MP_RELAY_SIGNING_SECRET in .env;
// config('services.mp_relay.secret') or env() both work.

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

class VerifyRelaySignature
{
    /** Seconds either way, for clock skew between the relay and the backend. */
    public const WINDOW = 300;

    public function handle(Request $request, Closure $next)
    {
        $valid = self::isValid(
            (string) env('MP_RELAY_SIGNING_SECRET', ''),
            $request->getMethod(),
            $request->getRequestUri(),               // path and query exactly as sent
            (string) $request->header('x-relay-timestamp', ''),
            (string) $request->header('x-relay-signature', ''),
            $request->getContent(),                  // the raw body bytes
            time()
        );
        if (!$valid) {
            return response()->json(['message' => 'request did not come through mp-relay'], 401);
        }
        return $next($request);
    }

    /** The check itself, free of Laravel so it can be tested (and reused) anywhere. */
    public static function isValid(string $secret, string $method, string $pathAndQuery, string $timestamp, string $signature, string $body, int $now): bool
    {
        if ($secret === '' || !ctype_digit($timestamp) || abs($now - (int) $timestamp) > self::WINDOW) {
            return false;
        }
        $payload = $method . "\n" . $pathAndQuery . "\n" . $timestamp . "\n" . hash('sha256', $body);
        return hash_equals(hash_hmac('sha256', $payload, $secret), strtolower($signature));
    }
}
