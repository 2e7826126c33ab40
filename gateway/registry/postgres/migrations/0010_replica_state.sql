-- Issue 13, state that lived in one replica's memory (docs/scale.md "Replicas"): the drift/CT watches' findings
-- (at most one open row per key: the dedupe key), the last run of each watch, the CT watch's progress per log, and
-- the webhook outbox (deliveries not yet answered 2xx, claimed by every replica's worker with a lease).
CREATE TABLE "ct_log_states" (
	"log" text PRIMARY KEY NOT NULL,
	"tree_size" bigint NOT NULL,
	"root" text NOT NULL,
	"frontier" text NOT NULL,
	"certificates" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "findings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"source" text NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"fleet" text,
	"host" text NOT NULL,
	"summary" text NOT NULL,
	"detail" text NOT NULL,
	"first_seen_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"resolved_at" bigint,
	"acknowledged_at" bigint,
	"acknowledged_by" text
);
--> statement-breakpoint
CREATE TABLE "watch_runs" (
	"source" text PRIMARY KEY NOT NULL,
	"run" text NOT NULL,
	"ended_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_outbox" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"delivery_id" text NOT NULL,
	"webhook_id" integer NOT NULL,
	"event_type" text NOT NULL,
	"payload" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_at" bigint NOT NULL,
	"last_error" text DEFAULT '' NOT NULL,
	"lease_holder" text,
	"lease_until" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "findings_open_key_uq" ON "findings" USING btree ("key") WHERE resolved_at is null;--> statement-breakpoint
CREATE INDEX "findings_resolved_idx" ON "findings" USING btree ("resolved_at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_outbox_delivery_uq" ON "webhook_outbox" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_due_idx" ON "webhook_outbox" USING btree ("next_at");