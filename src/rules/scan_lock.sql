-- Takes the transaction's lock on one country's scans (no result); $1 = the lock key ('scan:' || country).
SELECT pg_advisory_xact_lock(hashtext($1))
