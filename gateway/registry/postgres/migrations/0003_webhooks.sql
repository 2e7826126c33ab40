-- Webhooks out (issue 18): registrations (the HMAC secret is kept: each delivery is signed with it) and the dead
-- letters, deliveries that failed every retry, kept until an operator redelivers or deletes them.
CREATE TABLE "webhooks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"rotations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"secret" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_dead_letters" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"webhook_id" integer NOT NULL,
	"delivery_id" text NOT NULL,
	"event_type" text NOT NULL,
	"url" text NOT NULL,
	"payload" text NOT NULL,
	"attempts" integer NOT NULL,
	"last_error" text NOT NULL,
	"failed_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_dead_letters_failed_idx" ON "webhook_dead_letters" ("failed_at");
