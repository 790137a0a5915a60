-- CreateTable
CREATE TABLE "import_jobs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "folder_id" TEXT NOT NULL,
    "folder_name" TEXT,
    "resource_key" TEXT,
    "destination" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "batch_size" INTEGER NOT NULL,
    "listing_complete" BOOLEAN NOT NULL DEFAULT false,
    "total_files" INTEGER NOT NULL DEFAULT 0,
    "stored_files" INTEGER NOT NULL DEFAULT 0,
    "skipped_files" INTEGER NOT NULL DEFAULT 0,
    "failed_files" INTEGER NOT NULL DEFAULT 0,
    "bytes_total" BIGINT NOT NULL DEFAULT 0,
    "bytes_done" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,
    "next_batch_index" INTEGER NOT NULL DEFAULT 0,
    "open_batch_files" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "batches" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "job_id" TEXT NOT NULL,
    "batch_index" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "file_count" INTEGER NOT NULL DEFAULT 0,
    "done_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sealed_at" DATETIME,
    "finished_at" DATETIME,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "batches_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "import_jobs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "files" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job_id" TEXT NOT NULL,
    "batch_id" TEXT,
    "drive_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "folder_path" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "size" BIGINT,
    "md5" TEXT,
    "modified_time" DATETIME,
    "width" INTEGER,
    "height" INTEGER,
    "taken_at" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "storage_provider" TEXT,
    "storage_key" TEXT NOT NULL,
    "etag" TEXT,
    "bytes_copied" BIGINT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    CONSTRAINT "files_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "import_jobs" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "files_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION
);

-- CreateIndex
CREATE INDEX "import_jobs_created_at_idx" ON "import_jobs"("created_at");

-- CreateIndex
CREATE INDEX "batches_job_id_status_idx" ON "batches"("job_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "batches_job_id_batch_index_key" ON "batches"("job_id", "batch_index");

-- CreateIndex
CREATE INDEX "files_job_id_status_idx" ON "files"("job_id", "status");

-- CreateIndex
CREATE INDEX "files_job_id_updated_at_idx" ON "files"("job_id", "updated_at");

-- CreateIndex
CREATE INDEX "files_batch_id_idx" ON "files"("batch_id");

-- CreateIndex
CREATE INDEX "files_storage_provider_md5_idx" ON "files"("storage_provider", "md5");

-- CreateIndex
CREATE UNIQUE INDEX "files_job_id_drive_id_key" ON "files"("job_id", "drive_id");
