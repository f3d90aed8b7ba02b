-- The given-name table gains short forms (Harry for Henry, Paco for Francisco) and a
-- form can be in several groups ("Bert"): a name's "#group" search keys change; and a
-- Hebrew-script word's first alef now carries a vowel and a Spanish j inside a word
-- also sounds as ch, which change sound keys.
-- The keys are rebuilt from the records before this migration is recorded (db.rs).
SELECT 1;
