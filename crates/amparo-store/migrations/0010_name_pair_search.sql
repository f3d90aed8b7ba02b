-- Search keys gain pairs of name keys ("&~579000 ~689400") and case-number and
-- wristband terms are marked "=". The keys are rebuilt from the records before this
-- migration is recorded (db.rs), so a rebuild cut short runs again at the next start.
SELECT 1;
