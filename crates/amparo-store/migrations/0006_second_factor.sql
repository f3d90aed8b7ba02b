-- A user's TOTP secret (RFC 6238, base32), set when they enrol a second factor.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
