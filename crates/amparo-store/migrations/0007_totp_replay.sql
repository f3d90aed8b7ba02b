-- The last TOTP time step a user signed in with: a code is accepted once, so one seen
-- over a shoulder or caught in transit cannot be used again within its 90 seconds.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
