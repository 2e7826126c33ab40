CREATE TABLE `coverage_counts` (
	`fleet` text NOT NULL,
	`host` text NOT NULL,
	`pin` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`fleet`, `host`, `pin`)
);
--> statement-breakpoint
CREATE TABLE `fleet_set_counts` (
	`fleet` text NOT NULL,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`fleet`, `kind`, `key`)
);
--> statement-breakpoint
CREATE TABLE `rollout_executions` (
	`rollout_id` text NOT NULL,
	`device_id` text NOT NULL,
	`wave` integer NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`enrolled_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`rollout_id`, `device_id`)
);
--> statement-breakpoint
CREATE INDEX `rollout_executions_counts_idx` ON `rollout_executions` (`rollout_id`,`wave`,`kind`);--> statement-breakpoint
CREATE INDEX `rollout_executions_device_idx` ON `rollout_executions` (`device_id`);--> statement-breakpoint
CREATE TABLE `rollouts` (
	`id` text PRIMARY KEY NOT NULL,
	`fleet` text NOT NULL,
	`pinset_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`state` text NOT NULL,
	`snapshot` text NOT NULL,
	`warnings` text DEFAULT '[]' NOT NULL,
	`last_gate` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rollouts_fleet_state_idx` ON `rollouts` (`fleet`,`state`);--> statement-breakpoint
CREATE INDEX `rollouts_state_idx` ON `rollouts` (`state`);--> statement-breakpoint
CREATE INDEX `rollouts_pinset_idx` ON `rollouts` (`pinset_id`);--> statement-breakpoint
CREATE TABLE `rotations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`fleet` text NOT NULL,
	`host` text NOT NULL,
	`pin` text NOT NULL,
	`forced` integer NOT NULL,
	`reason` text,
	`coverage_bp` integer NOT NULL,
	`target_bp` integer NOT NULL,
	`at_risk` integer NOT NULL,
	`recorded_at` integer NOT NULL,
	`recorded_by` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rotations_fleet_host_idx` ON `rotations` (`fleet`,`host`,`id`);--> statement-breakpoint
CREATE TABLE `telemetry_buckets` (
	`fleet` text NOT NULL,
	`host` text NOT NULL,
	`bucket` integer NOT NULL,
	`ok` integer DEFAULT 0 NOT NULL,
	`mismatch` integer DEFAULT 0 NOT NULL,
	`fail_open` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`fleet`, `host`, `bucket`)
);
--> statement-breakpoint
CREATE INDEX `telemetry_buckets_fleet_bucket_idx` ON `telemetry_buckets` (`fleet`,`bucket`);--> statement-breakpoint
ALTER TABLE `devices` ADD `counted_installed` text;--> statement-breakpoint
ALTER TABLE `devices` ADD `counted_verified` text;--> statement-breakpoint
CREATE INDEX `devices_fleet_counted_idx` ON `devices` (`fleet`,`counted_installed`,`id`);