-- DropIndex
DROP INDEX "files_storage_provider_md5_idx";

-- DropIndex
DROP INDEX "files_job_id_updated_at_idx";

-- CreateTable
CREATE TABLE "stored_objects" (
    "destination" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "md5" TEXT,
    "size" BIGINT,
    "job_id" TEXT NOT NULL,
    "drive_id" TEXT NOT NULL,
    "updated_at" DATETIME NOT NULL,

    PRIMARY KEY ("destination", "key_hash")
);

-- CreateIndex
CREATE INDEX "files_job_id_status_updated_at_idx" ON "files"("job_id", "status", "updated_at");
