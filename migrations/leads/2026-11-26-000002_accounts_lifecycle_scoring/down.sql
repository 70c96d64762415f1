DROP TABLE deals;
DROP TABLE meddicc_cards;
DROP TABLE engagement_touches;
DROP TABLE score_history;
DROP TABLE qualification_rules;
DROP TABLE scoring_models;
DROP TABLE lifecycle_history;
ALTER TABLE leads
    DROP COLUMN phone, DROP COLUMN account_id, DROP COLUMN utm_source, DROP COLUMN utm_medium,
    DROP COLUMN utm_campaign, DROP COLUMN utm_term, DROP COLUMN utm_content, DROP COLUMN owner,
    DROP COLUMN consent, DROP COLUMN properties, DROP COLUMN merged_into, DROP COLUMN fit,
    DROP COLUMN engagement, DROP COLUMN engagement_as_of, DROP COLUMN grade, DROP COLUMN mql_at,
    DROP COLUMN sql_at, DROP COLUMN customer_at;
DROP TABLE account_domains;
DROP TABLE accounts;
