CREATE TABLE `acks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`sha256` text NOT NULL,
	`seq` integer NOT NULL,
	`status` text NOT NULL,
	`code` text,
	`pinset_id` integer,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `acks_device_sha_status_uq` ON `acks` (`device_id`,`sha256`,`status`);--> statement-breakpoint
CREATE INDEX `acks_pinset_idx` ON `acks` (`pinset_id`,`status`);--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_name_unique` ON `api_tokens` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`detail` text
);
--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`fleet` text NOT NULL,
	`device_class` text NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`firmware` text,
	`credential_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen` integer,
	`online` integer DEFAULT false NOT NULL,
	`installed_seq` integer DEFAULT 0 NOT NULL,
	`installed_sha256` text,
	`verified_seq` integer DEFAULT 0 NOT NULL,
	`verified_sha256` text,
	`keyset_version` integer DEFAULT 0 NOT NULL,
	`assigned_pinset_id` integer,
	`last_delivered_at` integer,
	`flagged_reason` text,
	`flagged_at` integer,
	`flag_count` integer DEFAULT 0 NOT NULL,
	`decommissioned` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `devices_fleet_idx` ON `devices` (`fleet`,`id`);--> statement-breakpoint
CREATE INDEX `devices_fleet_seq_idx` ON `devices` (`fleet`,`installed_seq`);--> statement-breakpoint
CREATE TABLE `keysets` (
	`version` integer PRIMARY KEY NOT NULL,
	`public_keys` text NOT NULL,
	`envelope` blob,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `malformed_counts` (
	`device_id` text NOT NULL,
	`kind` text NOT NULL,
	`code` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`last_at` integer NOT NULL,
	`last_detail` text,
	PRIMARY KEY(`device_id`, `kind`, `code`)
);
--> statement-breakpoint
CREATE TABLE `pinset_ack_counts` (
	`pinset_id` integer NOT NULL,
	`status` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`pinset_id`, `status`)
);
--> statement-breakpoint
CREATE TABLE `pinsets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`fleet` text NOT NULL,
	`seq` integer NOT NULL,
	`envelope` blob NOT NULL,
	`sha256` text NOT NULL,
	`json` text NOT NULL,
	`keyset_version` integer NOT NULL,
	`not_after` integer NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`released_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pinsets_fleet_seq_uq` ON `pinsets` (`fleet`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `pinsets_sha256_uq` ON `pinsets` (`sha256`);--> statement-breakpoint
CREATE TABLE `reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`device_id` text NOT NULL,
	`host` text NOT NULL,
	`port` integer NOT NULL,
	`result` text NOT NULL,
	`served_pins` text NOT NULL,
	`installed_seq` integer NOT NULL,
	`device_time` integer NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reports_device_host_time_uq` ON `reports` (`device_id`,`host`,`port`,`device_time`);--> statement-breakpoint
CREATE INDEX `reports_host_time_idx` ON `reports` (`host`,`received_at`);