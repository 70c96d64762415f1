ALTER TABLE engagement_touches
    ADD CONSTRAINT engagement_touches_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES leads (id);
