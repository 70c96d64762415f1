"""Schemathesis hooks for Touchstone: how to put an NDJSON body on the wire.

The NDJSON endpoints (`POST /v1/touchpoints/bulk`, `POST /v1/funnels/{id}/events`) document
their body as an array of line objects; each item goes on its own line. A generated value
that is not an array (negative tests) is sent as a single line, and a string as it is.
"""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson", "application/ndjson", "application/jsonl")
def ndjson(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf-8", "surrogatepass")
