-- Affiliates are replaced by PUT with If-Match: each write bumps the version, their ETag.
ALTER TABLE affiliates ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version > 0);
