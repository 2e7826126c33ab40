CREATE TABLE "leader_epochs" (
	"role" text PRIMARY KEY NOT NULL,
	"epoch" bigint NOT NULL,
	"holder" text,
	"acquired_at" bigint NOT NULL
);
