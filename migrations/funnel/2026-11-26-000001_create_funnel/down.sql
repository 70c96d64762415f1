DROP TABLE pending_lead_moves;
DROP TABLE lead_facts;
DROP TRIGGER transitions_append_only ON transitions;
DROP TABLE transitions;
DROP FUNCTION transitions_append_only();
DROP TABLE deals;
DROP TABLE funnel_versions;
DROP TABLE funnels;
