-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN "owner" TEXT;

-- CreateTable
CREATE TABLE "api_tokens" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "hash" TEXT NOT NULL,
    "admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_hash_key" ON "api_tokens"("hash");

-- CreateIndex
CREATE INDEX "import_jobs_owner_created_at_idx" ON "import_jobs"("owner", "created_at");
