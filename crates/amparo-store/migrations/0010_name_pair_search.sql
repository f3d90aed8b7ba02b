-- Search keys gain pairs of name keys ("&~579000 ~689400"), case-number and
-- wristband terms are marked "=", and relationships, households, incidents and
-- allegations carry the ids they hold ("@<id>"). The keys are rebuilt from the records before this
-- migration is recorded (db.rs), so a rebuild cut short runs again at the next start.
SELECT 1;
