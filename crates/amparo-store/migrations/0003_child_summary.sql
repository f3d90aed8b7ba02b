-- Columns for counting children by status, facility, sex and age without reading
-- every record's JSON (the dashboard at 10,000 children and more).
ALTER TABLE records ADD COLUMN sex TEXT;
ALTER TABLE records ADD COLUMN born_earliest TEXT;
ALTER TABLE records ADD COLUMN born_latest TEXT;
CREATE INDEX records_recent ON records(agency_id, kind, updated_at);
