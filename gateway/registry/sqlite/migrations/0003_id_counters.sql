CREATE TABLE `id_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
-- a registry from before the counter: continue after the rollouts it already has (ids were count(*)+1)
INSERT INTO `id_counters` (`name`, `n`) SELECT 'rollout', count(*) FROM `rollouts`;
