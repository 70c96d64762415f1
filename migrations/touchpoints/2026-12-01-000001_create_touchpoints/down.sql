DROP TABLE affiliates;
DROP TABLE conversions;
DROP TABLE lead_merges;
DROP TABLE identities;
DROP TABLE touchpoints;
