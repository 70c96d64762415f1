-- A MEDDICC card is replaced with PUT under If-Match: its version is its ETag. A lead
-- without a card is at version 0, so the first PUT sends If-Match "0".
ALTER TABLE meddicc_cards ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
