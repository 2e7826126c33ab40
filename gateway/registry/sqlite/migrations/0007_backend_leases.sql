-- Leases on the external broker's backend client ids (issue 13, docs/scale.md "Backend connections").
CREATE TABLE `backend_leases` (
	`slot` integer PRIMARY KEY NOT NULL,
	`holder` text,
	`expires_at` integer NOT NULL,
	`epoch` integer NOT NULL,
	`wanted_by` text
);
