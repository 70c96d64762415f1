-- Outbox bodies of batch messages are tens of kB of JSON, which PostgreSQL compresses on
-- write and the relay decompresses on read. lz4 does both several times faster than the
-- default pglz. Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available; outbox bodies stay pglz-compressed';
END
$$;
