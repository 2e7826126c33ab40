CREATE TABLE "offline_installed_counts" (
	"fleet" text NOT NULL,
	"installed" text NOT NULL,
	"n" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "offline_installed_counts_fleet_installed_pk" PRIMARY KEY("fleet","installed")
);
--> statement-breakpoint
-- Offline devices per fleet and counted installed set, kept in step with "devices" by a row trigger: every write
-- path (enrolment, presence, hello/ack ingest, decommission) moves it in the same statement. Rotation readiness
-- reads atRiskOffline from here instead of counting device rows. Online devices never touch it (the WHEN clauses).
INSERT INTO "offline_installed_counts" ("fleet", "installed", "n")
  SELECT "fleet", "counted_installed", count(*) FROM "devices"
  WHERE NOT "online" AND "counted_installed" IS NOT NULL GROUP BY "fleet", "counted_installed";
--> statement-breakpoint
CREATE FUNCTION devices_offline_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.online AND OLD.counted_installed IS NOT NULL THEN
    UPDATE "offline_installed_counts" SET "n" = "n" - 1 WHERE "fleet" = OLD.fleet AND "installed" = OLD.counted_installed;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NOT NEW.online AND NEW.counted_installed IS NOT NULL THEN
    INSERT INTO "offline_installed_counts" ("fleet", "installed", "n") VALUES (NEW.fleet, NEW.counted_installed, 1)
      ON CONFLICT ("fleet", "installed") DO UPDATE SET "n" = "offline_installed_counts"."n" + 1;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER devices_offline_count_insert AFTER INSERT ON "devices"
  FOR EACH ROW WHEN (NOT NEW.online AND NEW.counted_installed IS NOT NULL) EXECUTE FUNCTION devices_offline_count();
--> statement-breakpoint
CREATE TRIGGER devices_offline_count_delete AFTER DELETE ON "devices"
  FOR EACH ROW WHEN (NOT OLD.online AND OLD.counted_installed IS NOT NULL) EXECUTE FUNCTION devices_offline_count();
--> statement-breakpoint
CREATE TRIGGER devices_offline_count_update AFTER UPDATE OF "online", "fleet", "counted_installed" ON "devices"
  FOR EACH ROW WHEN (
    (OLD.online IS DISTINCT FROM NEW.online OR OLD.fleet IS DISTINCT FROM NEW.fleet OR OLD.counted_installed IS DISTINCT FROM NEW.counted_installed)
    AND ((NOT OLD.online AND OLD.counted_installed IS NOT NULL) OR (NOT NEW.online AND NEW.counted_installed IS NOT NULL))
  ) EXECUTE FUNCTION devices_offline_count();
