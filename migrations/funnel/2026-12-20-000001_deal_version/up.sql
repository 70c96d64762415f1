-- A deal's version: its ETag, bumped by every write of the row (a PATCH of its terms, a
-- move, a rebuild of its projections), so that `If-Match` guards a PATCH against a lost
-- update and `If-None-Match` never answers 304 for a deal that has since moved.
ALTER TABLE deals ADD COLUMN version integer NOT NULL DEFAULT 1;
