CREATE TABLE `leader_epochs` (
	`role` text PRIMARY KEY NOT NULL,
	`epoch` integer NOT NULL,
	`holder` text,
	`acquired_at` integer NOT NULL
);
