-- API token lifecycle (issue 17): expiry, revocation, last use; all nullable so existing tokens keep working.
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "revoked_at" bigint;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "last_used_at" bigint;
