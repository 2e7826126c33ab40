-- Tables rewritten by every ack batch (docs/postgres.md "Tables that grow with the fleet"): vacuumed and analysed
-- after 2 % of their rows changed instead of 20 %, so the dead index entries a batch leaves (devices moving from
-- one counted set to another) are cleared before the rotation gate's at-risk listing has to skip them.
ALTER TABLE "devices" SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
--> statement-breakpoint
-- the counter rows are few and updated in every batch: vacuumed every 200 changes
ALTER TABLE "fleet_set_counts" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
--> statement-breakpoint
ALTER TABLE "coverage_counts" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
--> statement-breakpoint
ALTER TABLE "pinset_ack_counts" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
