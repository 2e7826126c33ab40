-- per-set ack counts live in pinset_ack_counts (written in the ack transaction); nothing reads acks by pin set, and
-- every ack insert paid for this index (issue 12: ingest goals)
DROP INDEX IF EXISTS `acks_pinset_idx`;
