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

    /** The headers the signature covers, in this order; the relay names them in x-relay-signed-headers. */
    public const SIGNED_HEADERS = ['authorization', 'content-type', 'cookie'];

    /** Covered after them when present: the relay sends it on /post only, for PATCH or DELETE. */
    public const METHOD_OVERRIDE = 'x-http-method-override';

    public function handle(Request $request, Closure $next)
    {
        $valid = self::isValid(
            (string) env('MP_RELAY_SIGNING_SECRET', ''),
            $request->getRealMethod(),               // the method on the wire, before any override
            $request->getRequestUri(),               // path and query exactly as sent
            array_map(fn (array $values) => implode(', ', $values), $request->headers->all()),
            $request->getContent(),                  // the raw body bytes
            time()
        );
        if (!$valid) {
            return response()->json(['message' => 'request did not come through mp-relay'], 401);
        }
        return $next($request);
    }

    /**
     * The check itself, free of Laravel so it can be tested (and reused) anywhere.
     * $headers maps lower-case header names to values.
     */
    public static function isValid(string $secret, string $method, string $pathAndQuery, array $headers, string $body, int $now): bool
    {
        $timestamp = (string) ($headers['x-relay-timestamp'] ?? '');
        if ($secret === '' || !ctype_digit($timestamp) || abs($now - (int) $timestamp) > self::WINDOW) {
            return false;
        }
        // An override the relay did not sign is refused here: Laravel would route on it.
        $names = self::SIGNED_HEADERS;
        if (isset($headers[self::METHOD_OVERRIDE])) {
            $names[] = self::METHOD_OVERRIDE;
        }
        if (($headers['x-relay-signed-headers'] ?? '') !== implode(';', $names)) {
            return false;                            // a relay that signs another format
        }
        $lines = ['v2', $method, $pathAndQuery, $timestamp, hash('sha256', $body)];
        foreach ($names as $name) {
            $lines[] = $name . ':' . trim((string) ($headers[$name] ?? ''), " \t");
        }
        $signature = strtolower((string) ($headers['x-relay-signature'] ?? ''));
        return hash_equals(hash_hmac('sha256', implode("\n", $lines), $secret), $signature);
    }
}
