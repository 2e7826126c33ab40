CREATE TABLE `offline_installed_counts` (
	`fleet` text NOT NULL,
	`installed` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`fleet`, `installed`)
);
--> statement-breakpoint
-- Offline devices per fleet and counted installed set, kept in step with `devices` by triggers: every write path
-- (enrolment, presence, hello/ack ingest, decommission, the start-up "everyone offline") moves it in the same
-- statement. Rotation readiness reads atRiskOffline from here instead of counting device rows.
INSERT INTO `offline_installed_counts` (`fleet`, `installed`, `n`)
  SELECT `fleet`, `counted_installed`, count(*) FROM `devices`
  WHERE `online` = 0 AND `counted_installed` IS NOT NULL GROUP BY `fleet`, `counted_installed`;
--> statement-breakpoint
CREATE TRIGGER `devices_offline_count_insert` AFTER INSERT ON `devices`
WHEN new.`online` = 0 AND new.`counted_installed` IS NOT NULL
BEGIN
  INSERT INTO `offline_installed_counts` (`fleet`, `installed`, `n`) VALUES (new.`fleet`, new.`counted_installed`, 1)
    ON CONFLICT (`fleet`, `installed`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `devices_offline_count_delete` AFTER DELETE ON `devices`
WHEN old.`online` = 0 AND old.`counted_installed` IS NOT NULL
BEGIN
  UPDATE `offline_installed_counts` SET `n` = `n` - 1 WHERE `fleet` = old.`fleet` AND `installed` = old.`counted_installed`;
END;
--> statement-breakpoint
CREATE TRIGGER `devices_offline_count_update` AFTER UPDATE OF `online`, `fleet`, `counted_installed` ON `devices`
WHEN (old.`online` IS NOT new.`online` OR old.`fleet` IS NOT new.`fleet` OR old.`counted_installed` IS NOT new.`counted_installed`)
  AND ((old.`online` = 0 AND old.`counted_installed` IS NOT NULL) OR (new.`online` = 0 AND new.`counted_installed` IS NOT NULL))
BEGIN
  UPDATE `offline_installed_counts` SET `n` = `n` - 1
    WHERE old.`online` = 0 AND `fleet` = old.`fleet` AND `installed` = old.`counted_installed`;
  INSERT INTO `offline_installed_counts` (`fleet`, `installed`, `n`)
    SELECT new.`fleet`, new.`counted_installed`, 1 WHERE new.`online` = 0 AND new.`counted_installed` IS NOT NULL
    ON CONFLICT (`fleet`, `installed`) DO UPDATE SET `n` = `n` + 1;
END;
