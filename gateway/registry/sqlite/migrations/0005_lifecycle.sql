CREATE TABLE `kill_switches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`fleet` text NOT NULL,
	`host` text NOT NULL,
	`mode` text NOT NULL,
	`reason` text NOT NULL,
	`pinset_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`base_seq` integer NOT NULL,
	`source` text NOT NULL,
	`superseded_rollouts` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kill_switches_fleet_idx` ON `kill_switches` (`fleet`,`id`);--> statement-breakpoint
CREATE TABLE `rotation_plans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`fleet` text NOT NULL,
	`host` text NOT NULL,
	`port` integer,
	`current_pin` text NOT NULL,
	`next_pin` text NOT NULL,
	`backup_pin` text NOT NULL,
	`new_next_pin` text,
	`target` integer NOT NULL,
	`switch_at` integer,
	`step` text NOT NULL,
	`history` text DEFAULT '[]' NOT NULL,
	`stage1_pinset_id` integer,
	`stage1_rollout_id` text,
	`stage2_pinset_id` integer,
	`stage2_rollout_id` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rotation_plans_fleet_host_idx` ON `rotation_plans` (`fleet`,`host`,`id`);