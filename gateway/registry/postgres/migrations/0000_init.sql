CREATE TABLE "acks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "acks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" text NOT NULL,
	"sha256" text NOT NULL,
	"seq" integer NOT NULL,
	"status" text NOT NULL,
	"code" text,
	"pinset_id" integer,
	"received_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "api_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL,
	CONSTRAINT "api_tokens_name_unique" UNIQUE("name"),
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" bigint NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"detail" text
);
--> statement-breakpoint
CREATE TABLE "coverage_counts" (
	"fleet" text NOT NULL,
	"host" text NOT NULL,
	"pin" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "coverage_counts_fleet_host_pin_pk" PRIMARY KEY("fleet","host","pin")
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" text PRIMARY KEY NOT NULL,
	"fleet" text NOT NULL,
	"device_class" text NOT NULL,
	"labels" text DEFAULT '[]' NOT NULL,
	"firmware" text,
	"credential_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"last_seen" bigint,
	"online" boolean DEFAULT false NOT NULL,
	"installed_seq" integer DEFAULT 0 NOT NULL,
	"installed_sha256" text,
	"verified_seq" integer DEFAULT 0 NOT NULL,
	"verified_sha256" text,
	"keyset_version" integer DEFAULT 0 NOT NULL,
	"assigned_pinset_id" integer,
	"last_delivered_at" bigint,
	"flagged_reason" text,
	"flagged_at" bigint,
	"flag_count" integer DEFAULT 0 NOT NULL,
	"decommissioned" boolean DEFAULT false NOT NULL,
	"counted_installed" text,
	"counted_verified" text
);
--> statement-breakpoint
CREATE TABLE "fleet_set_counts" (
	"fleet" text NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "fleet_set_counts_fleet_kind_key_pk" PRIMARY KEY("fleet","kind","key")
);
--> statement-breakpoint
CREATE TABLE "id_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"n" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "keysets" (
	"version" integer PRIMARY KEY NOT NULL,
	"public_keys" text NOT NULL,
	"envelope" "bytea",
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "malformed_counts" (
	"device_id" text NOT NULL,
	"kind" text NOT NULL,
	"code" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"last_at" bigint NOT NULL,
	"last_detail" text,
	CONSTRAINT "malformed_counts_device_id_kind_code_pk" PRIMARY KEY("device_id","kind","code")
);
--> statement-breakpoint
CREATE TABLE "pinset_ack_counts" (
	"pinset_id" integer NOT NULL,
	"status" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "pinset_ack_counts_pinset_id_status_pk" PRIMARY KEY("pinset_id","status")
);
--> statement-breakpoint
CREATE TABLE "pinsets" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "pinsets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"fleet" text NOT NULL,
	"seq" integer NOT NULL,
	"envelope" "bytea" NOT NULL,
	"sha256" text NOT NULL,
	"json" text NOT NULL,
	"keyset_version" integer NOT NULL,
	"not_after" bigint NOT NULL,
	"source" text NOT NULL,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL,
	"released_at" bigint
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"result" text NOT NULL,
	"served_pins" text NOT NULL,
	"installed_seq" integer NOT NULL,
	"device_time" bigint NOT NULL,
	"received_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollout_executions" (
	"rollout_id" text NOT NULL,
	"device_id" text NOT NULL,
	"wave" integer NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"enrolled_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "rollout_executions_rollout_id_device_id_pk" PRIMARY KEY("rollout_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" text PRIMARY KEY NOT NULL,
	"fleet" text NOT NULL,
	"pinset_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"state" text NOT NULL,
	"snapshot" text NOT NULL,
	"warnings" text DEFAULT '[]' NOT NULL,
	"last_gate" text,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rotations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "rotations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"fleet" text NOT NULL,
	"host" text NOT NULL,
	"pin" text NOT NULL,
	"forced" boolean NOT NULL,
	"reason" text,
	"coverage_bp" integer NOT NULL,
	"target_bp" integer NOT NULL,
	"at_risk" integer NOT NULL,
	"recorded_at" bigint NOT NULL,
	"recorded_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_buckets" (
	"fleet" text NOT NULL,
	"host" text NOT NULL,
	"bucket" bigint NOT NULL,
	"ok" bigint DEFAULT 0 NOT NULL,
	"mismatch" bigint DEFAULT 0 NOT NULL,
	"fail_open" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "telemetry_buckets_fleet_host_bucket_pk" PRIMARY KEY("fleet","host","bucket")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "acks_device_sha_status_uq" ON "acks" USING btree ("device_id","sha256","status");--> statement-breakpoint
CREATE INDEX "acks_pinset_idx" ON "acks" USING btree ("pinset_id","status");--> statement-breakpoint
CREATE INDEX "devices_fleet_idx" ON "devices" USING btree ("fleet","id");--> statement-breakpoint
CREATE INDEX "devices_fleet_seq_idx" ON "devices" USING btree ("fleet","installed_seq");--> statement-breakpoint
CREATE INDEX "devices_fleet_counted_idx" ON "devices" USING btree ("fleet","counted_installed","id");--> statement-breakpoint
CREATE UNIQUE INDEX "pinsets_fleet_seq_uq" ON "pinsets" USING btree ("fleet","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "pinsets_sha256_uq" ON "pinsets" USING btree ("sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "reports_device_host_time_uq" ON "reports" USING btree ("device_id","host","port","device_time");--> statement-breakpoint
CREATE INDEX "reports_host_time_idx" ON "reports" USING btree ("host","received_at");--> statement-breakpoint
CREATE INDEX "reports_device_idx" ON "reports" USING btree ("device_id","id");--> statement-breakpoint
CREATE INDEX "rollout_executions_counts_idx" ON "rollout_executions" USING btree ("rollout_id","wave","kind");--> statement-breakpoint
CREATE INDEX "rollout_executions_device_idx" ON "rollout_executions" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "rollouts_fleet_state_idx" ON "rollouts" USING btree ("fleet","state");--> statement-breakpoint
CREATE INDEX "rollouts_state_idx" ON "rollouts" USING btree ("state");--> statement-breakpoint
CREATE INDEX "rollouts_pinset_idx" ON "rollouts" USING btree ("pinset_id");--> statement-breakpoint
CREATE INDEX "rotations_fleet_host_idx" ON "rotations" USING btree ("fleet","host","id");--> statement-breakpoint
CREATE INDEX "telemetry_buckets_fleet_bucket_idx" ON "telemetry_buckets" USING btree ("fleet","bucket");