-- AlterTable
ALTER TABLE "api_tokens" ADD COLUMN "max_bytes" BIGINT;
ALTER TABLE "api_tokens" ADD COLUMN "max_files" INTEGER;

-- CreateTable
CREATE TABLE "activity" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "job_id" TEXT,
    "detail" TEXT
);

-- CreateIndex
CREATE INDEX "activity_actor_id_idx" ON "activity"("actor", "id");
